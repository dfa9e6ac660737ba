using Lantern.Explainers.Gradients;

namespace Lantern.Explainers.Tests.Gradients;

public class ScoreCamMasksTests
{
    // Two 2x2 activation channels under a 4x4 input. Channel 0 is (0 1; 2 3): upsampled with corners aligned it is
    // 2·(y/3) + x/3, from 0 to 3, so normalised it is (2y + x) / 9. Channel 1 is constant.
    private static readonly float[] Activations = [0, 1, 2, 3, /**/ 5, 5, 5, 5];

    private static float[] Input(bool channelsFirst)
    {
        var input = new float[3 * 16];
        for (var c = 0; c < 3; c++)
        for (var p = 0; p < 16; p++)
            input[channelsFirst ? c * 16 + p : p * 3 + c] = 1 + c + 0.5f * p;
        return input;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Each_evaluation_is_the_input_times_its_upsampled_normalised_channel(bool channelsFirst)
    {
        var input = Input(channelsFirst);
        var masks = new ScoreCamMasks(input, Activations, 2, 2, 2, 4, 4, channelsFirst);
        var tensor = new float[input.Length];

        masks.Write(0, tensor);

        Assert.Equal(2, masks.Count);
        for (var y = 0; y < 4; y++)
        for (var x = 0; x < 4; x++)
        for (var c = 0; c < 3; c++)
        {
            var i = channelsFirst ? c * 16 + y * 4 + x : (y * 4 + x) * 3 + c;
            Assert.Equal(input[i] * (2 * y + x) / 9f, tensor[i], 1e-5f);
        }
        // The corners are the activation's extremes: masked to 0 and kept as they are.
        Assert.Equal(0f, tensor[0]);
        var last = channelsFirst ? 15 : 45;
        Assert.Equal(input[last], tensor[last], 1e-6f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_constant_channel_gives_an_all_zero_input(bool channelsFirst)
    {
        var masks = new ScoreCamMasks(Input(channelsFirst), Activations, 2, 2, 2, 4, 4, channelsFirst);
        var tensor = new float[3 * 16];
        Array.Fill(tensor, float.NaN);

        masks.Write(1, tensor);

        Assert.All(tensor, v => Assert.Equal(0f, v));
    }
}
