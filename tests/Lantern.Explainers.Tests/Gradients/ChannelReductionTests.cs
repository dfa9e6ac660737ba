using Lantern.Explainers.Gradients;

namespace Lantern.Explainers.Tests.Gradients;

public class ChannelReductionTests
{
    // Two pixels, three channels. Pixel 0: (1, −4, 2); pixel 1: (−0.5, 0.25, 3).
    private static readonly float[] GradientChw = [1, -0.5f, -4, 0.25f, 2, 3];
    private static readonly float[] GradientHwc = [1, -4, 2, -0.5f, 0.25f, 3];

    // The same pixels' factors. Pixel 0: (2, 1, −1); pixel 1: (4, 8, 0.5).
    private static readonly float[] FactorChw = [2, 4, 1, 8, -1, 0.5f];
    private static readonly float[] FactorHwc = [2, 1, -1, 4, 8, 0.5f];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Max_abs_adds_the_weighted_largest_magnitude_over_channels(bool channelsFirst)
    {
        float[] map = [10, 20];

        ChannelReduction.AddMaxAbs(channelsFirst ? GradientChw : GradientHwc, channelsFirst, 0.5f, map);

        Assert.Equal([10 + 0.5f * 4, 20 + 0.5f * 3], map);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Product_adds_the_weighted_channel_sum_of_gradient_times_factor(bool channelsFirst)
    {
        float[] map = [1, -1];

        ChannelReduction.AddProduct(channelsFirst ? GradientChw : GradientHwc, channelsFirst ? FactorChw : FactorHwc,
            channelsFirst, 2, map);

        // Pixel 0: 1·2 − 4·1 + 2·(−1) = −4; pixel 1: −0.5·4 + 0.25·8 + 3·0.5 = 1.5.
        Assert.Equal([1 + 2 * -4f, -1 + 2 * 1.5f], map);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Repeated_calls_accumulate_into_the_map(bool channelsFirst)
    {
        var gradient = channelsFirst ? GradientChw : GradientHwc;
        var map = new float[2];

        ChannelReduction.AddMaxAbs(gradient, channelsFirst, 0.25f, map);
        ChannelReduction.AddMaxAbs(gradient, channelsFirst, 0.75f, map);

        Assert.Equal([4f, 3f], map);
    }

    [Fact]
    public void Both_layouts_give_the_same_map_for_a_larger_random_tensor()
    {
        const int pixels = 6 * 5;
        var random = new Random(3);
        var chw = new float[3 * pixels];
        var factorChw = new float[3 * pixels];
        for (var i = 0; i < chw.Length; i++) (chw[i], factorChw[i]) = ((float)random.NextDouble() * 2 - 1, (float)random.NextDouble());
        var hwc = new float[3 * pixels];
        var factorHwc = new float[3 * pixels];
        for (var c = 0; c < 3; c++)
        for (var p = 0; p < pixels; p++)
            (hwc[p * 3 + c], factorHwc[p * 3 + c]) = (chw[c * pixels + p], factorChw[c * pixels + p]);

        var (fromChw, fromHwc) = (new float[pixels], new float[pixels]);
        ChannelReduction.AddMaxAbs(chw, true, 1, fromChw);
        ChannelReduction.AddMaxAbs(hwc, false, 1, fromHwc);
        Assert.Equal(fromChw, fromHwc);

        (fromChw, fromHwc) = (new float[pixels], new float[pixels]);
        ChannelReduction.AddProduct(chw, factorChw, true, 1, fromChw);
        ChannelReduction.AddProduct(hwc, factorHwc, false, 1, fromHwc);
        Assert.Equal(fromChw, fromHwc);
    }
}
