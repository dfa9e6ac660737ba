using Lantern.Explainers.Scoring;

namespace Lantern.Explainers.Tests;

public class ScoresTests
{
    [Fact]
    public void Softmax_turns_log_ratios_into_the_matching_probabilities()
    {
        var p = Scores.Softmax([0f, MathF.Log(2), MathF.Log(3), MathF.Log(4)]);

        Assert.Equal([0.1f, 0.2f, 0.3f, 0.4f], p, (a, b) => Math.Abs(a - b) < 1e-6f);
    }

    [Fact]
    public void Softmax_does_not_overflow_on_large_logits()
    {
        var p = Scores.Softmax([1000f, 1001f, -1000f]);

        Assert.Equal(0.26894142f, p[0], 1e-6f);
        Assert.Equal(0.73105858f, p[1], 1e-6f);
        Assert.Equal(0f, p[2]);
    }

    [Fact]
    public void Softmax_of_nothing_is_nothing() => Assert.Empty(Scores.Softmax([]));

    [Fact]
    public void SoftmaxOf_a_few_classes_is_bit_for_bit_the_full_softmax_at_those_classes()
    {
        var random = new Random(7);
        var logits = new float[1000];
        for (var i = 0; i < logits.Length; i++) logits[i] = (float)(random.NextDouble() * 40 - 20);
        int[] classes = [999, 0, 207, 207, 531];
        var few = new float[classes.Length];

        Scores.SoftmaxOf(logits, classes, few);

        var full = Scores.Softmax(logits);
        Assert.Equal(classes.Select(c => BitConverter.SingleToInt32Bits(full[c])), few.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void TopK_ranks_by_descending_score_and_breaks_ties_by_lower_index()
    {
        float[] scores = [0.1f, 0.5f, 0.3f, 0.5f, 0.9f, 0.3f];

        Assert.Equal([4, 1, 3, 2], Scores.TopK(scores, 4));
        Assert.Equal([4, 1, 3, 2, 5, 0], Scores.TopK(scores, 6));
    }

    [Fact]
    public void TopK_returns_everything_when_k_exceeds_the_count_and_nothing_for_zero()
    {
        Assert.Equal([1, 0], Scores.TopK([1f, 2f], 5));
        Assert.Empty(Scores.TopK([1f, 2f], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Scores.TopK([1f], -1));
    }

    [Fact]
    public void TopK_ranks_NaN_below_every_number()
    {
        Assert.Equal([2, 0, 1], Scores.TopK([1f, float.NaN, 3f], 3));
    }

    [Fact]
    public void TopK_agrees_with_a_full_stable_sort_on_random_scores()
    {
        var random = new Random(30);
        var scores = new float[1000];
        for (var i = 0; i < scores.Length; i++) scores[i] = random.Next(50); // many ties
        var expected = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ThenBy(i => i).Take(25).ToArray();

        Assert.Equal(expected, Scores.TopK(scores, 25));
    }
}
