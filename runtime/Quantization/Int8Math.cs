using System;
using System.Runtime.CompilerServices;

namespace GraphGen.Quantization;

/// <summary>The real-valued functions an int8 layer applies after its integer dot products, and the
/// rounding rules of the quantized values. Everything here runs in double precision, once per layer at
/// construction (requantization grids, lookup tables) or once per logit: the per-element work of inference
/// is integer and float32 arithmetic that every kernel path does in the same order, so every path gives the
/// same bytes.</summary>
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

    /// <summary>The largest number of entries of a requantization table (<see cref="Grid"/>).</summary>
    public const int MaxGrid = 8192;

    /// <summary>The grid on which a layer requantizes: the pre-activation v is rounded to a multiple
    /// i·<c>Step</c> of the step, i clamped to [<c>Lo</c>, <c>Hi</c>], and the output code is
    /// <c>Codes[i − Lo]</c> = Quantize(f(i·Step)). The step is an eighth of the output scale, or coarser where
    /// the codes change over a range wider than <see cref="MaxGrid"/> steps (Sigmoid, Tanh); the range covers
    /// every pre-activation at which the code changes, so the clamp changes no code. For a non-decreasing f the
    /// codes never decrease, so a max-pool may be taken on the accumulators.</summary>
    public static (double Step, int Lo, int Hi, byte[] Codes) Grid(Activation kind, double slope, float scale, int zeroPoint)
    {
        int Code(double v) => Quantize(Activate(kind, slope, v), scale, zeroPoint);
        const double Big = 1e30;
        int bottom = Code(-Big), top = Code(Big);
        // The last pre-activation with the bottom code and the first with the top code, bracketed by
        // bisection to well under a step (from below and above).
        double Edge(int code, bool last)
        {
            double lo = -Big, hi = Big;
            for (int i = 0; i < 400 && hi - lo > scale * 1e-4; i++)
            {
                double mid = lo / 2 + hi / 2;
                if ((Code(mid) == code) == last) lo = mid; else hi = mid;
            }
            return last ? lo : hi;
        }
        double from = bottom == top ? 0 : Edge(bottom, true), to = bottom == top ? 0 : Edge(top, false);
        double step = Math.Max(scale / 8.0, (to - from) / (MaxGrid - 2));
        double first = Math.Floor(from / step), last = Math.Ceiling(to / step);
        if (!(Math.Abs(first) < 1 << 22 && Math.Abs(last) < 1 << 22))
            throw new NotSupportedException($"the codes of this activation change between {from:G4} and {to:G4}, too far from 0 for a requantization grid of step {step:G4}");
        int lo = (int)first, hi = (int)last;
        var codes = new byte[hi - lo + 1 + 3]; // 3 bytes of slack for 32-bit gathers
        for (int i = lo; i <= hi; i++) codes[i - lo] = (byte)Code(i * step);
        return (step, lo, hi, codes);
    }

    /// <summary>The output code of accumulator <paramref name="acc"/> (plus its correction) on a grid from
    /// <see cref="Grid"/>, in float32 exactly as the vector epilogue computes it: x = float(acc)·ratio
    /// (ratio = input scale × weight scale / step, as a float), clamped to [lo, hi], rounded half to even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Requantize(int acc, float ratio, int lo, int hi, byte[] codes)
    {
        float x = Math.Clamp((float)acc * ratio, lo, hi);
        return codes[(int)MathF.Round(x) - lo];
    }
}

/// <summary>The activations an int8 layer can apply.</summary>
internal enum Activation { Identity, ReLU, Sigmoid, Tanh, LeakyReLU, SiLU }
