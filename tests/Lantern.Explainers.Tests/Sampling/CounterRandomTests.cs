using Lantern.Explainers.Sampling;

namespace Lantern.Explainers.Tests.Sampling;

public class CounterRandomTests
{
    // Random123's kat_vectors for philox4x32_10: (counter words, key words) -> output words. The counter is
    // (sample low, sample high, stream, block) and the key (seed low, seed high), so each is reachable through the API.
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
        0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
        0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Matches_the_published_Philox4x32_10_known_answers(
        uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint x0, uint x1, uint x2, uint x3)
    {
        var random = new CounterRandom(((ulong)k1 << 32) | k0, (long)(((ulong)c1 << 32) | c0), c2);
        long block = 4L * c3;

        Assert.Equal([x0, x1, x2, x3], [random.UInt32(block), random.UInt32(block + 1), random.UInt32(block + 2), random.UInt32(block + 3)]);
    }

    [Fact]
    public void The_same_seed_sample_and_stream_give_the_same_values_in_any_order()
    {
        var forwards = Enumerable.Range(0, 1000).Select(n => new CounterRandom(42, 7, 3).Double(n)).ToArray();
        var backwards = Enumerable.Range(0, 1000).Reverse().Select(n => new CounterRandom(42, 7, 3).Double(n)).Reverse().ToArray();

        Assert.Equal(forwards, backwards);
    }

    [Fact]
    public void Different_streams_samples_and_seeds_give_different_values()
    {
        uint[] Words(CounterRandom r) => Enumerable.Range(0, 64).Select(n => r.UInt32(n)).ToArray();
        var reference = Words(new CounterRandom(42, 7, 0));

        Assert.NotEqual(reference, Words(new CounterRandom(42, 7, 1)));
        Assert.NotEqual(reference, Words(new CounterRandom(42, 8, 0)));
        Assert.NotEqual(reference, Words(new CounterRandom(43, 7, 0)));
        // Independent streams should agree on about half their bits, not more.
        var other = Words(new CounterRandom(42, 7, 1));
        var agreeing = reference.Zip(other).Sum(p => 32 - System.Numerics.BitOperations.PopCount(p.First ^ p.Second));
        Assert.InRange(agreeing, 64 * 32 / 2 - 150, 64 * 32 / 2 + 150);
    }

    [Fact]
    public void Doubles_are_in_the_unit_interval_with_mean_one_half()
    {
        var random = new CounterRandom(2024, 0);
        double sum = 0;
        for (var n = 0; n < 100_000; n++)
        {
            var d = random.Double(n);
            Assert.InRange(d, 0.0, Math.BitDecrement(1.0));
            sum += d;
        }
        Assert.InRange(sum / 100_000, 0.49, 0.51);
    }

    [Fact]
    public void Double_uses_the_top_27_and_26_bits_of_two_consecutive_words()
    {
        var random = new CounterRandom(5, 6, 7);
        ulong bits = ((ulong)(random.UInt32(6) >> 5) << 26) | (random.UInt32(7) >> 6);

        Assert.Equal(bits / 9007199254740992.0, random.Double(3));
    }

    [Fact]
    public void Bits_are_fair_coins_taken_from_the_words()
    {
        var random = new CounterRandom(99, 3, 1);
        int ones = 0;
        for (var n = 0; n < 100_000; n++)
            if (random.Bit(n)) ones++;

        // 5 standard deviations (sqrt(100000)/2 ≈ 158) around 50000.
        Assert.InRange(ones, 50_000 - 800, 50_000 + 800);
        Assert.Equal((random.UInt32(2) >> 5 & 1) != 0, random.Bit(2 * 32 + 5));
    }

    [Fact]
    public void An_index_past_the_end_of_a_stream_is_rejected()
    {
        var random = new CounterRandom(1, 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => random.UInt32(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.UInt32(CounterRandom.ValuesPerStream));
        Assert.Throws<ArgumentOutOfRangeException>(() => random.Double(CounterRandom.ValuesPerStream / 2));
        random.UInt32(CounterRandom.ValuesPerStream - 1);
    }
}
