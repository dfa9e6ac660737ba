using Lantern.Methods.Gradients;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Worker.Inference;

/// <summary>
/// Runs one target's deep dream on a gradient session: each ascent step is one row through the gradient model, its
/// seed the target's weights (a one-hot class, or a channel's mask for a layer target).
/// </summary>
public static class DeepDreamSession
{
    /// <param name="writeSeed">Writes the target's weights into a zeroed seed row.</param>
    /// <param name="inputShape">The model input without the batch dimension: [C,H,W].</param>
    public static DeepDreamResult Run(GradientSession session, Action<Span<float>> writeSeed, float[] start, float[] black,
        float[] white, IReadOnlyList<long> inputShape, DeepDreamOptions options, RunOptions? runOptions = null,
        CancellationToken cancellationToken = default)
    {
        if (inputShape.Count != 3 || session.InputGradients is null)
            throw new ArgumentException($"deep dream needs a [C,H,W] input, not [{string.Join(',', inputShape)}]");
        float Gradient(float[] input, float[] gradient)
        {
            var score = Score(session, writeSeed, input, runOptions);
            var gradients = session.InputGradients;
            if (gradients.Length < gradient.Length)
                throw new InvalidOperationException("the gradient model does not output the input's gradient");
            gradients.AsSpan(0, gradient.Length).CopyTo(gradient);
            return score;
        }
        return DeepDream.Run(Gradient, start, black, white, (int)inputShape[0], (int)inputShape[1], (int)inputShape[2],
            options, cancellationToken);
    }

    /// <summary>One row through the gradient model: the target's score for <paramref name="input"/> (its gradient is left in the session).</summary>
    public static float Score(GradientSession session, Action<Span<float>> writeSeed, float[] input, RunOptions? runOptions = null)
    {
        input.CopyTo(session.InputBuffer(1));
        writeSeed(session.SeedBuffer(1));
        session.Run(1, runOptions);
        return session.Scores[0];
    }
}
