using Lantern.Explainers.Imaging;
using Lantern.Explainers.Occlusion;

namespace Lantern.Explainers.Tests;

public class OcclusionPlanTests
{
    [Fact]
    public void A_16_pixel_window_with_stride_8_fits_27_times_per_axis_in_224()
    {
        var plan = OcclusionPlan.Create(224, 224, [new WindowShape(16, 16, 8, 8)]);

        Assert.Equal(729, plan.WindowCount);
        Assert.Equal(new PixelRect(0, 0, 16, 16), plan.WindowAt(0));
        Assert.Equal(new PixelRect(208, 0, 16, 16), plan.WindowAt(26));
        Assert.Equal(new PixelRect(0, 8, 16, 16), plan.WindowAt(27));
        Assert.Equal(new PixelRect(208, 208, 16, 16), plan.WindowAt(728));
    }

    [Fact]
    public void Scales_are_numbered_one_after_another()
    {
        var plan = OcclusionPlan.Create(224, 224, [new WindowShape(16, 16, 8, 8), new WindowShape(32, 32, 16, 16)]);

        Assert.Equal(729 + 169, plan.WindowCount);
        Assert.Equal((0L, 729L), plan.ScaleRange(0));
        Assert.Equal((729L, 169L), plan.ScaleRange(1));
        Assert.Equal(0, plan.ScaleOf(728));
        Assert.Equal(1, plan.ScaleOf(729));
        Assert.Equal(new PixelRect(0, 0, 32, 32), plan.WindowAt(729));
        Assert.Equal(new PixelRect(192, 192, 32, 32), plan.WindowAt(729 + 168));
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.WindowAt(plan.WindowCount));
    }

    [Fact]
    public void Rectangular_windows_go_row_major_and_stay_inside_the_image_with_the_inside_border()
    {
        // 20 wide, 10 high; windows 3 high and 5 wide, stride 2 down and 4 across: rows y = 0,2,4,6 and columns x = 0,4,8,12.
        var plan = OcclusionPlan.Create(20, 10, [new WindowShape(Height: 3, Width: 5, StrideY: 2, StrideX: 4)], OcclusionBorder.Inside);

        Assert.Equal(16, plan.WindowCount);
        for (var i = 0; i < 16; i++)
            Assert.Equal(new PixelRect(4 * (i % 4), 2 * (i / 4), 5, 3), plan.WindowAt(i));
    }

    [Fact]
    public void Rectangular_windows_with_the_captum_border_add_a_clipped_last_row_and_column()
    {
        // As above, plus row y = 8 (2 high: the image ends at 10) and column x = 16 (4 wide: the image ends at 20).
        var plan = OcclusionPlan.Create(20, 10, [new WindowShape(Height: 3, Width: 5, StrideY: 2, StrideX: 4)]);

        Assert.Equal(OcclusionBorder.Clipped, plan.Border);
        Assert.Equal(25, plan.WindowCount);
        for (var i = 0; i < 25; i++)
        {
            int x = 4 * (i % 5), y = 2 * (i / 5);
            Assert.Equal(new PixelRect(x, y, x == 16 ? 4 : 5, y == 8 ? 2 : 3), plan.WindowAt(i));
        }
    }

    [Fact]
    public void Window_48_stride_24_on_224_pixels_sits_where_captum_puts_it_9_per_axis_the_last_clipped()
    {
        // Captum's Occlusion: shift_counts = ceil((224 - 48) / 24) + 1 = 9, window k starts at 24k and is padded by
        // 224 - (24k + 48), a negative pad (a crop) for k = 8: rows and columns 192..223, 32 pixels.
        var plan = OcclusionPlan.Create(224, 224, [new WindowShape(48, 48, 24, 24)]);

        Assert.Equal(81, plan.WindowCount);
        int[] starts = [0, 24, 48, 72, 96, 120, 144, 168, 192];
        for (var i = 0; i < 81; i++)
        {
            int x = starts[i % 9], y = starts[i / 9];
            Assert.Equal(new PixelRect(x, y, x == 192 ? 32 : 48, y == 192 ? 32 : 48), plan.WindowAt(i));
        }
    }

    [Fact]
    public void Window_48_stride_24_on_224_pixels_with_the_inside_border_places_8_per_axis_and_leaves_an_8_pixel_border()
    {
        var plan = OcclusionPlan.Create(224, 224, [new WindowShape(48, 48, 24, 24)], OcclusionBorder.Inside);

        Assert.Equal(64, plan.WindowCount);
        Assert.Equal(new PixelRect(168, 168, 48, 48), plan.WindowAt(63));
        Assert.Equal(216, plan.WindowAt(63).Right); // pixels 216..223 lie under no window
    }

    [Fact]
    public void When_the_stride_divides_the_room_both_borders_place_the_same_windows()
    {
        var captum = OcclusionPlan.Create(224, 224, [new WindowShape(16, 16, 8, 8), new WindowShape(32, 32, 16, 16)]);
        var inside = OcclusionPlan.Create(224, 224, [new WindowShape(16, 16, 8, 8), new WindowShape(32, 32, 16, 16)], OcclusionBorder.Inside);

        Assert.Equal(inside.WindowCount, captum.WindowCount);
        for (long i = 0; i < captum.WindowCount; i++) Assert.Equal(inside.WindowAt(i), captum.WindowAt(i));
    }

    [Theory]
    [InlineData(224, 224, 300, 300, 8, 8, "window 300x300 is larger than the 224x224 image; use a window of at most 224")]
    [InlineData(224, 224, 16, 16, 0, 8, "stride must be at least 1, got 0")]
    [InlineData(224, 224, 16, 16, 8, -2, "stride must be at least 1, got -2")]
    [InlineData(224, 224, 0, 16, 8, 8, "window must be at least 1x1, got 16x0")]
    [InlineData(100, 50, 60, 10, 5, 5, "window 10x60 is larger than the 100x50 image; use a window of at most 100x50 (width x height)")]
    public void Invalid_windows_are_rejected_with_a_message_saying_what_to_do(
        int imageWidth, int imageHeight, int height, int width, int strideY, int strideX, string message)
    {
        var error = Assert.Throws<ArgumentException>(
            () => OcclusionPlan.Create(imageWidth, imageHeight, [new WindowShape(height, width, strideY, strideX)]));
        Assert.StartsWith(message, error.Message);
    }

    [Fact]
    public void A_plan_needs_at_least_one_window_size()
    {
        var error = Assert.Throws<ArgumentException>(() => OcclusionPlan.Create(224, 224, []));
        Assert.StartsWith("at least one window size is required", error.Message);
    }

    [Fact]
    public void With_several_scales_the_message_names_the_bad_one()
    {
        var error = Assert.Throws<ArgumentException>(
            () => OcclusionPlan.Create(224, 224, [new WindowShape(16, 16, 8, 8), new WindowShape(32, 32, 0, 0)]));
        Assert.StartsWith("scale 1: stride must be at least 1, got 0", error.Message);
    }
}
