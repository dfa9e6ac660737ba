using System.Text;
using Lantern.Imaging;

namespace Lantern.Cluster.Tests.ModelsAndImaging;

public sealed class NpyTests
{
    [Fact]
    public void A_map_survives_an_npy_round_trip()
    {
        float[] data = [0f, -1.5f, 3.25f, float.MaxValue, float.Epsilon, 1e-30f];

        var (decoded, shape) = Npy.Decode(Npy.Encode(data, 2, 3));

        Assert.Equal([2, 3], shape);
        Assert.Equal(data, decoded);
    }

    [Fact]
    public void The_npy_header_is_byte_for_byte_what_numpy_save_writes()
    {
        var bytes = Npy.Encode(new float[6], 2, 3);

        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        var headerLength = bytes[8] | bytes[9] << 8;
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal(10 + headerLength + 6 * 4, bytes.Length);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        const string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        Assert.Equal(dict + new string(' ', headerLength - dict.Length - 1) + "\n", header);
        // numpy >= 1.22 leaves room for the growth axis to reach 21 digits: 20 spaces here, then the 64-byte padding.
        Assert.Equal(118, headerLength);
    }

    [Fact]
    public void The_data_follows_the_header_as_little_endian_float32()
    {
        var bytes = Npy.Encode([1f, 2f], 1, 2);

        Assert.Equal(BitConverter.GetBytes(1f).Concat(BitConverter.GetBytes(2f)), bytes[^8..]);
    }

    [Fact]
    public void A_non_npy_or_float64_array_is_refused()
    {
        Assert.Throws<FormatException>(() => Npy.Decode("not numpy"u8.ToArray()));
        var f8 = Npy.Encode(new float[2], 1, 2);
        f8[Encoding.ASCII.GetString(f8).IndexOf("<f4", StringComparison.Ordinal) + 2] = (byte)'8';
        Assert.Throws<FormatException>(() => Npy.Decode(f8));
    }
}
