using Lantern.Explainers.Lime;

namespace Lantern.Explainers.Tests.Lime;

public class LimeSamplerTests
{
    [Fact]
    public void The_first_sample_keeps_every_feature()
    {
        var mask = new bool[37];
        LimeSampler.Mask(seed: 99, index: 0, 37, mask);
        Assert.All(mask, Assert.True);
    }

    [Fact]
    public void The_same_seed_gives_the_same_masks_and_another_seed_different_ones()
    {
        bool[] Masks(ulong seed)
        {
            var all = new bool[200 * 30];
            for (var i = 0; i < 200; i++) LimeSampler.Mask(seed, i, 30, all.AsSpan(i * 30, 30));
            return all;
        }

        Assert.Equal(Masks(7), Masks(7));
        Assert.NotEqual(Masks(7), Masks(8));
    }

    [Fact]
    public void Each_feature_is_switched_off_by_a_fair_coin()
    {
        const int samples = 4000, features = 25;
        var off = new int[features];
        var mask = new bool[features];
        for (var i = 1; i <= samples; i++)
        {
            LimeSampler.Mask(3, i, features, mask);
            for (var f = 0; f < features; f++)
                if (!mask[f]) off[f]++;
        }
        // Binomial(4000, 0.5): sd ≈ 32, so ±160 is 5 sd.
        Assert.All(off, count => Assert.InRange(count, samples / 2 - 160, samples / 2 + 160));
    }

    [Fact]
    public void LimeMasks_serves_the_sampler_masks()
    {
        var source = new LimeMasks(5, 12);
        var expected = new bool[12];
        var actual = new bool[12];
        for (var i = 0; i < 20; i++)
        {
            LimeSampler.Mask(5, i, 12, expected);
            source.Mask(i, actual);
            Assert.Equal(expected, actual);
        }
    }
}
