using System;
using System.Runtime.CompilerServices;

namespace GraphGen.Quantization;

/// <summary>The real-valued functions an int8 layer applies after its integer dot products, and the
/// rounding rules of the quantized values. Everything here runs in double precision, once per layer at
/// construction (threshold tables, lookup tables) or once per logit: the per-element work of inference
/// is integer only, so every kernel path gives the same bytes.</summary>
internal static class Int8Math
{
    /// <summary>Quantizes a real value to uint8: clamp(round-half-even(x / scale) + zeroPoint, 0, 255), as
    /// ONNX QuantizeLinear does. NaN maps to the zero point.</summary>
    public static byte Quantize(double x, float scale, int zeroPoint)
    {
        double q = Math.Round(x / scale, MidpointRounding.ToEven) + zeroPoint;
        if (double.IsNaN(q)) return (byte)zeroPoint;
        return (byte)Math.Clamp(q, 0, 255);
    }

    /// <summary>The real value of a uint8 code.</summary>
    public static double Dequantize(int q, float scale, int zeroPoint) => (q - zeroPoint) * (double)scale;

    /// <summary>The activation function of <paramref name="kind"/> (Identity for none).</summary>
    public static double Activate(Activation kind, double slope, double x) => kind switch
    {
        Activation.Identity => x,
        Activation.ReLU => x > 0 ? x : 0,
        Activation.Sigmoid => 1 / (1 + Math.Exp(-x)),
        Activation.Tanh => Math.Tanh(x),
        Activation.LeakyReLU => x > 0 ? x : slope * x,
        Activation.SiLU => x / (1 + Math.Exp(-x)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Whether the activation never decreases, so that it commutes with a max-pool and with a
    /// threshold table (SiLU dips below zero, so it does not).</summary>
    public static bool IsMonotone(Activation kind) => kind != Activation.SiLU;

    /// <summary>The scale and zero point that map [min, max] (widened to include 0) onto 0..255.</summary>
    public static (float Scale, int ZeroPoint) Range(float min, float max)
    {
        double lo = Math.Min(0, (double)min), hi = Math.Max(0, (double)max);
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
            throw new InvalidOperationException($"calibration saw a non-finite activation ({min}..{max}); the network's float outputs are not finite");
        if (hi - lo < 1e-30) return (1f / 255, 0);
        float scale = (float)((hi - lo) / 255);
        int zeroPoint = (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, 255);
        return (scale, zeroPoint);
    }

    /// <summary>The level table of one output channel: entry j (1..255) is the smallest int32 accumulator
    /// whose output code is at least j, for the code clamp(round(f(acc·multiplier) / scale) + zeroPoint);
    /// entry 0 is unused. With a non-decreasing f, <see cref="Level"/> gives that code for any accumulator
    /// by binary search, in integer arithmetic.</summary>
    public static void Thresholds(Span<int> table, double multiplier, Activation kind, double slope, float scale, int zeroPoint)
    {
        int Code(long acc) => Quantize(Activate(kind, slope, acc * multiplier), scale, zeroPoint);
        table[0] = int.MinValue;
        for (int j = 1; j < 256; j++)
        {
            long lo = int.MinValue, hi = int.MaxValue; // find the smallest acc in [lo, hi] with Code(acc) >= j
            if (Code(hi) < j) { table[j] = int.MaxValue; continue; }
            if (Code(lo) >= j) { table[j] = int.MinValue; continue; }
            while (hi - lo > 1)
            {
                long mid = lo + (hi - lo) / 2;
                if (Code(mid) >= j) hi = mid; else lo = mid;
            }
            table[j] = (int)hi;
        }
    }

    /// <summary>The code of accumulator <paramref name="acc"/> under a table from <see cref="Thresholds"/>:
    /// the number of entries 1..255 that are at most acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Level(ReadOnlySpan<int> table, int acc)
    {
        // Branch-free: the comparisons are unpredictable, and a mispredicted branch per step would cost more
        // than the whole step. (acc − t) >> 63 is −1 where t > acc, else 0.
        long a = acc;
        int q = 0;
        q += 128 & ~(int)((a - table[q + 128]) >> 63);
        q += 64 & ~(int)((a - table[q + 64]) >> 63);
        q += 32 & ~(int)((a - table[q + 32]) >> 63);
        q += 16 & ~(int)((a - table[q + 16]) >> 63);
        q += 8 & ~(int)((a - table[q + 8]) >> 63);
        q += 4 & ~(int)((a - table[q + 4]) >> 63);
        q += 2 & ~(int)((a - table[q + 2]) >> 63);
        q += 1 & ~(int)((a - table[q + 1]) >> 63);
        return q;
    }

    /// <summary><see cref="Level"/> of each accumulator, four searches interleaved step by step: each search is
    /// a chain of eight dependent loads, and four independent chains keep the processor busy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Levels(ReadOnlySpan<int> table, ReadOnlySpan<int> acc, Span<byte> codes)
    {
        int i = 0;
        for (; i + 4 <= acc.Length; i += 4)
        {
            long a0 = acc[i], a1 = acc[i + 1], a2 = acc[i + 2], a3 = acc[i + 3];
            int q0 = 0, q1 = 0, q2 = 0, q3 = 0;
            for (int step = 128; step > 0; step >>= 1)
            {
                q0 += step & ~(int)((a0 - table[q0 + step]) >> 63);
                q1 += step & ~(int)((a1 - table[q1 + step]) >> 63);
                q2 += step & ~(int)((a2 - table[q2 + step]) >> 63);
                q3 += step & ~(int)((a3 - table[q3 + step]) >> 63);
            }
            codes[i] = (byte)q0; codes[i + 1] = (byte)q1; codes[i + 2] = (byte)q2; codes[i + 3] = (byte)q3;
        }
        for (; i < acc.Length; i++) codes[i] = (byte)Level(table, acc[i]);
    }
}

/// <summary>The activations an int8 layer can apply.</summary>
internal enum Activation { Identity, ReLU, Sigmoid, Tanh, LeakyReLU, SiLU }
