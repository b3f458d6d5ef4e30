using System;

namespace GraphGen.Execution;

/// <summary>Deterministic random numbers (SplitMix64): the same seed gives the same stream on every
/// platform and .NET version, which <see cref="System.Random"/> does not promise.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public sealed class SplitMix64
{
    private ulong _state;

    /// <summary>A stream seeded with <paramref name="seed"/>.</summary>
    public SplitMix64(long seed) => _state = (ulong)seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n), without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        ulong limit = ulong.MaxValue - ulong.MaxValue % (ulong)n;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (int)(r % (ulong)n);
    }

    /// <summary>Fisher–Yates shuffle.</summary>
    public void Shuffle(Span<int> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

/// <summary>Parameter initialization.</summary>
[global::System.ComponentModel.EditorBrowsable(global::System.ComponentModel.EditorBrowsableState.Never)] // plumbing of the generated code
public static class Init
{
    /// <summary>Xavier (Glorot) uniform, as Gluon's <c>init.Xavier()</c> (uniform, factor "avg",
    /// magnitude 3) and PyTorch's <c>xavier_uniform_</c>: U(−a, a) with a = sqrt(6 / (fanIn + fanOut)).</summary>
    public static void XavierUniform(Span<float> weights, int fanIn, int fanOut, SplitMix64 rng)
    {
        double a = Math.Sqrt(6.0 / (fanIn + fanOut));
        for (int i = 0; i < weights.Length; i++) weights[i] = (float)((rng.NextDouble() * 2 - 1) * a);
    }
}
