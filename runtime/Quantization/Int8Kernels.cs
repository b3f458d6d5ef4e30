using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphGen.Quantization;

/// <summary>The int8 dot-product kernels: uint8 activations × int8 weights summed in int32, which every
/// path computes exactly, so all paths give the same accumulators.</summary>
internal static unsafe class Int8Kernels
{
    /// <summary>acc[o] = Σ_k x[k]·w[o·depth + k] for o &lt; outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DenseScalar(byte* x, sbyte* w, int* acc, int outputs, int depth)
    {
        for (int o = 0; o < outputs; o++)
        {
            int sum = 0;
            sbyte* row = w + (long)o * depth;
            for (int k = 0; k < depth; k++) sum += x[k] * row[k];
            acc[o] = sum;
        }
    }

    /// <summary>The same with AVX-VNNI (vpdpbusd, 8 outputs per vector): weights packed [quads][outputs][4],
    /// each quad of x broadcast; four accumulators over the quads hide the instruction's latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DenseVnni(byte* x, sbyte* w, int* acc, int outputsPadded, int quads)
    {
#if NET9_0_OR_GREATER
        int* xq = (int*)x;
        long row = outputsPadded * 4;
        for (int ob = 0; ob < outputsPadded; ob += 8)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            sbyte* wb = w + ob * 4;
            int q = 0;
            for (; q + 4 <= quads; q += 4, wb += 4 * row)
            {
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Create(xq[q]).AsByte(), Vector256.Load(wb));
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, Vector256.Create(xq[q + 1]).AsByte(), Vector256.Load(wb + row));
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, Vector256.Create(xq[q + 2]).AsByte(), Vector256.Load(wb + 2 * row));
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, Vector256.Create(xq[q + 3]).AsByte(), Vector256.Load(wb + 3 * row));
            }
            for (; q < quads; q++, wb += row)
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, Vector256.Create(xq[q]).AsByte(), Vector256.Load(wb));
            ((a0 + a1) + (a2 + a3)).Store(acc + ob);
        }
#else
        throw new System.PlatformNotSupportedException("AVX-VNNI needs .NET 9 or later (it is a preview API in .NET 8)");
#endif
    }

    /// <summary>Convolution as a product of the im2col columns (col[(q·positions + p)·4 + j], uint8) and the
    /// packed weights (w[o·quads + q], four int8 in an int): acc[o·positions + p], 8 positions per vector and
    /// 4 output channels at a time. <paramref name="outputs"/> and <paramref name="positions"/> are multiples
    /// of 4 and 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConvVnni(byte* col, int* w, int* acc, int outputs, int quads, int positions)
    {
#if NET9_0_OR_GREATER
        long stride = positions * 4L;
        for (int p = 0; p < positions; p += 8)
        {
            for (int o = 0; o < outputs; o += 4)
            {
                Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
                int* w0 = w + o * quads, w1 = w0 + quads, w2 = w1 + quads, w3 = w2 + quads;
                byte* x = col + p * 4;
                for (int q = 0; q < quads; q++, x += stride)
                {
                    var v = Vector256.Load(x);
                    a0 = AvxVnni.MultiplyWideningAndAdd(a0, v, Vector256.Create(w0[q]).AsSByte());
                    a1 = AvxVnni.MultiplyWideningAndAdd(a1, v, Vector256.Create(w1[q]).AsSByte());
                    a2 = AvxVnni.MultiplyWideningAndAdd(a2, v, Vector256.Create(w2[q]).AsSByte());
                    a3 = AvxVnni.MultiplyWideningAndAdd(a3, v, Vector256.Create(w3[q]).AsSByte());
                }
                a0.Store(acc + o * positions + p);
                a1.Store(acc + (o + 1) * positions + p);
                a2.Store(acc + (o + 2) * positions + p);
                a3.Store(acc + (o + 3) * positions + p);
            }
        }
#else
        throw new System.PlatformNotSupportedException("AVX-VNNI needs .NET 9 or later (it is a preview API in .NET 8)");
#endif
    }
}
