namespace Lantern.Explainers.Sampling;

/// <summary>
/// Counter-based random numbers (Philox4x32-10, Salmon, Moraes, Dror &amp; Shaw, "Parallel random numbers: as easy as
/// 1, 2, 3", SC'11): the value for (key, counter) is a pure function, so any worker can produce sample i of a job on its
/// own, in any order, bit-identically. No state is carried from one call to the next.
/// <para>Key = the job seed (key word 0 = low 32 bits, word 1 = high 32 bits). Counter words = (sample index low 32 bits,
/// sample index high 32 bits, stream, block), where block = n / 4 and value n is word n % 4 of that block's output. The
/// sample index is used as its 64-bit two's-complement pattern, so every counter is reachable.</para>
/// <para>The three views of one (seed, sample, stream) share its words: <see cref="UInt32"/>(n) is word n,
/// <see cref="Double"/>(n) uses words 2n and 2n + 1, <see cref="Bit"/>(n) is bit n % 32 of word n / 32. Use different
/// streams for independent uses within one sample.</para>
/// </summary>
public readonly struct CounterRandom
{
    /// <summary>4 values per block and 2^32 blocks per (seed, sample, stream): n must lie in 0 .. 2^34 - 1.</summary>
    public const long ValuesPerStream = 4L << 32;

    // Philox4x32 constants (Random123 philox.h): the two multipliers and the Weyl key increments (golden ratio, sqrt(3) - 1).
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private readonly uint _k0, _k1, _c0, _c1, _c2;

    /// <param name="seed">The job seed: the Philox key.</param>
    /// <param name="sampleIndex">Which sample of the job (counter words 0 and 1).</param>
    /// <param name="stream">Separates independent uses within one sample, e.g. mask bits vs shifts (counter word 2).</param>
    public CounterRandom(ulong seed, long sampleIndex, uint stream = 0)
    {
        _k0 = (uint)seed;
        _k1 = (uint)(seed >> 32);
        _c0 = (uint)(ulong)sampleIndex;
        _c1 = (uint)((ulong)sampleIndex >> 32);
        _c2 = stream;
    }

    /// <summary>The n-th 32-bit value of this (seed, sample, stream); n = 0, 1, 2, ... (4 values per Philox block).</summary>
    public uint UInt32(long n)
    {
        if ((ulong)n >= (ulong)ValuesPerStream)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"value index must be in 0..{ValuesPerStream - 1}");
        var (x0, x1, x2, x3) = Philox(_c0, _c1, _c2, (uint)(n >> 2), _k0, _k1);
        return (n & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
    }

    /// <summary>
    /// Uniform on [0, 1) with 53 random bits: the top 27 bits of word 2n followed by the top 26 bits of word 2n + 1, times
    /// 2^-53 (the genrand_res53 scheme of Mersenne Twister and Random123's u01). n must lie in 0 .. 2^33 - 1.
    /// </summary>
    public double Double(long n)
    {
        if ((ulong)n >= (ulong)(ValuesPerStream / 2))
            throw new ArgumentOutOfRangeException(nameof(n), n, $"double index must be in 0..{ValuesPerStream / 2 - 1}");
        // Words 2n and 2n + 1 always share a block, so one Philox call suffices.
        var (x0, x1, x2, x3) = Philox(_c0, _c1, _c2, (uint)(n >> 1), _k0, _k1);
        var (hi, lo) = (n & 1) == 0 ? (x0, x1) : (x2, x3);
        ulong bits = ((ulong)(hi >> 5) << 26) | (lo >> 6);
        return bits * (1.0 / (1UL << 53));
    }

    /// <summary>A fair coin: bit n % 32 (least significant first) of word n / 32, so one Philox block yields 128 coins.
    /// n must lie in 0 .. 2^39 - 1.</summary>
    public bool Bit(long n)
    {
        if ((ulong)n >= (ulong)ValuesPerStream * 32)
            throw new ArgumentOutOfRangeException(nameof(n), n, $"bit index must be in 0..{ValuesPerStream * 32 - 1}");
        return ((UInt32(n >> 5) >> (int)(n & 31)) & 1) != 0;
    }

    /// <summary>Philox4x32 with 10 rounds; the key is bumped between rounds (9 bumps), as in Random123.</summary>
    private static (uint, uint, uint, uint) Philox(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (var round = 0; round < 10; round++)
        {
            if (round > 0)
            {
                k0 += W0;
                k1 += W1;
            }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
        }
        return (c0, c1, c2, c3);
    }
}
