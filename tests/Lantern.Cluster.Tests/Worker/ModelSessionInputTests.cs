using Lantern.Cluster.Tests.Synthetic;
using Lantern.Explainers;
using Lantern.Models;
using Lantern.Worker.Inference;
using Microsoft.ML.OnnxRuntime;

namespace Lantern.Cluster.Tests.Worker;

/// <summary>
/// A session's input tensors remember which perturbation wrote them, so that the next one of the same perturber is a
/// rewrite of what differs (occlusion: the two windows) rather than a copy of the whole image; anything else written
/// there must make the next write a full one.
/// </summary>
public sealed class ModelSessionInputTests
{
    private sealed class RecordingPerturber : IPerturber
    {
        public List<string> Calls { get; } = [];
        public bool Fails { get; set; }

        public void Write(long index, Span<float> tensor) => Record($"write {index}", index, tensor);

        public void Rewrite(long previous, long index, Span<float> tensor) => Record($"rewrite {previous} to {index}", index, tensor);

        private void Record(string call, long index, Span<float> tensor)
        {
            Calls.Add(call);
            if (Fails) throw new InvalidOperationException("the write failed half way");
            tensor.Fill(index);
        }
    }

    [Fact]
    public void A_tensor_is_rewritten_only_over_what_the_same_perturber_wrote_there_last()
    {
        var model = SyntheticModels.SquareBrightness(8, 8, (0, 0, 4, 4));
        using var options = new SessionOptions();
        using var session = ModelSession.Load(model, OnnxModelInspector.Inspect(model), options, 4, out string? _);
        var perturber = new RecordingPerturber();
        var another = new RecordingPerturber();

        session.WritePerturbed(perturber, 1, slot: 0, position: 0);
        session.WritePerturbed(perturber, 2, slot: 0, position: 0);
        session.WritePerturbed(perturber, 7, slot: 1, position: 0);
        session.WritePerturbed(perturber, 8, slot: 0, position: 1);
        session.WritePerturbed(another, 3, slot: 0, position: 0);
        session.WritePerturbed(perturber, 4, slot: 0, position: 0);
        session.InputBuffer(1, slot: 0).Fill(-1); // as the baseline writes the unperturbed image
        session.WritePerturbed(perturber, 5, slot: 0, position: 0);
        session.WritePerturbed(perturber, 9, slot: 0, position: 1); // beyond what InputBuffer(1) handed out
        perturber.Fails = true;
        Assert.Throws<InvalidOperationException>(() => session.WritePerturbed(perturber, 6, slot: 0, position: 0));
        perturber.Fails = false;
        session.WritePerturbed(perturber, 6, slot: 0, position: 0);

        Assert.Equal(
            ["write 1", "rewrite 1 to 2", "write 7", "write 8", "write 4", "write 5", "rewrite 8 to 9", "rewrite 5 to 6", "write 6"],
            perturber.Calls);
        Assert.Equal(["write 3"], another.Calls);
        Assert.All(session.InputBuffer(2, slot: 0)[..session.TensorLength].ToArray(), value => Assert.Equal(6f, value));
    }
}
