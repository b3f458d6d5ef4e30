using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GraphGen.Quantization;

/// <summary>The vector int8 kernels. They work on a tile of <see cref="Lanes"/> samples whose values are
/// stored sample-innermost (byte k of sample i at k·8 + i), so that one AVX-VNNI vpdpbusd multiplies
/// 8 samples × 4 input bytes by one broadcast int32 of 4 weights. The input of a convolution or dense layer
/// is first staged as groups of 4 bytes per sample, [group][sample][4]; the accumulators are exact int32
/// sums, so every kernel path gives the same accumulators, and the epilogue the same codes.</summary>
internal static unsafe class Int8Kernels
{
    /// <summary>Samples per tile: the int32 lanes of a Vector256.</summary>
    public const int Lanes = 8;

    /// <summary>Writes the 32-byte group of four 8-byte rows (four bytes of each of 8 samples):
    /// dst[i·4 + j] = row j's byte i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Group(byte* r0, byte* r1, byte* r2, byte* r3, byte* dst)
    {
        var a = Vector128.CreateScalar(*(long*)r0).AsByte();
        var b = Vector128.CreateScalar(*(long*)r1).AsByte();
        var c = Vector128.CreateScalar(*(long*)r2).AsByte();
        var d = Vector128.CreateScalar(*(long*)r3).AsByte();
        var ab = Sse2.UnpackLow(a, b).AsInt16(); // a0 b0 a1 b1 ...
        var cd = Sse2.UnpackLow(c, d).AsInt16();
        Sse2.UnpackLow(ab, cd).AsByte().Store(dst);       // samples 0-3
        Sse2.UnpackHigh(ab, cd).AsByte().Store(dst + 16); // samples 4-7
    }

    /// <summary>Interleaves 8 rows of <paramref name="length"/> bytes sample-innermost: dst[k·8 + i] = row i's
    /// byte k, 16 bytes of each row at a time (an 8 × 16 byte transpose in three rounds of unpacks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Interleave(byte* r0, byte* r1, byte* r2, byte* r3, byte* r4, byte* r5, byte* r6, byte* r7, int length, byte* dst)
    {
        int k = 0;
        if (Sse2.IsSupported)
        {
            for (; k + 16 <= length; k += 16, dst += 128)
            {
                var t0 = Sse2.UnpackLow(Vector128.Load(r0 + k), Vector128.Load(r1 + k)).AsInt16();
                var t1 = Sse2.UnpackHigh(Vector128.Load(r0 + k), Vector128.Load(r1 + k)).AsInt16();
                var t2 = Sse2.UnpackLow(Vector128.Load(r2 + k), Vector128.Load(r3 + k)).AsInt16();
                var t3 = Sse2.UnpackHigh(Vector128.Load(r2 + k), Vector128.Load(r3 + k)).AsInt16();
                var t4 = Sse2.UnpackLow(Vector128.Load(r4 + k), Vector128.Load(r5 + k)).AsInt16();
                var t5 = Sse2.UnpackHigh(Vector128.Load(r4 + k), Vector128.Load(r5 + k)).AsInt16();
                var t6 = Sse2.UnpackLow(Vector128.Load(r6 + k), Vector128.Load(r7 + k)).AsInt16();
                var t7 = Sse2.UnpackHigh(Vector128.Load(r6 + k), Vector128.Load(r7 + k)).AsInt16();
                // Rows 0-3 and 4-7 of bytes 0-3, 4-7, 8-11, 12-15.
                var u0 = Sse2.UnpackLow(t0, t2).AsInt32(); var u1 = Sse2.UnpackHigh(t0, t2).AsInt32();
                var u2 = Sse2.UnpackLow(t1, t3).AsInt32(); var u3 = Sse2.UnpackHigh(t1, t3).AsInt32();
                var v0 = Sse2.UnpackLow(t4, t6).AsInt32(); var v1 = Sse2.UnpackHigh(t4, t6).AsInt32();
                var v2 = Sse2.UnpackLow(t5, t7).AsInt32(); var v3 = Sse2.UnpackHigh(t5, t7).AsInt32();
                Sse2.UnpackLow(u0, v0).Store((int*)dst); Sse2.UnpackHigh(u0, v0).Store((int*)(dst + 16));
                Sse2.UnpackLow(u1, v1).Store((int*)(dst + 32)); Sse2.UnpackHigh(u1, v1).Store((int*)(dst + 48));
                Sse2.UnpackLow(u2, v2).Store((int*)(dst + 64)); Sse2.UnpackHigh(u2, v2).Store((int*)(dst + 80));
                Sse2.UnpackLow(u3, v3).Store((int*)(dst + 96)); Sse2.UnpackHigh(u3, v3).Store((int*)(dst + 112));
            }
        }
        for (; k < length; k++, dst += 8)
        {
            dst[0] = r0[k]; dst[1] = r1[k]; dst[2] = r2[k]; dst[3] = r3[k];
            dst[4] = r4[k]; dst[5] = r5[k]; dst[6] = r6[k]; dst[7] = r7[k];
        }
    }

    /// <summary>Convolution accumulators for <c>positions</c> output positions of a tile and all output
    /// channels: acc[(o·positions + p)·8 + sample] = Σ_q staged[position[p] + quad[q]]·w[o][q], where
    /// <c>position</c> holds each output position's byte offset in the staged input (32 bytes a group),
    /// <c>quad</c> each weight quad's byte offset relative to a position, and <c>w</c> the weights packed
    /// [outputs2/2][quads][2], four int8 in an int (outputs2: the channel count rounded up to even; acc has
    /// that many rows). Blocks of 2 channels × 6 positions (12 accumulators); a last partial block is
    /// shifted back to overlap the one before, or repeats the last position when there are fewer than 6.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ConvVnni(byte* staged, int* position, int positions, int* quad, int quads, int* w, int outputs2, int* acc)
    {
#if NET9_0_OR_GREATER
        for (int pb = 0; pb < positions; pb += 6)
        {
            int p0 = positions >= 6 ? System.Math.Min(pb, positions - 6) : 0;
            int Pos(int k) => System.Math.Min(p0 + k, positions - 1);
            byte* x0 = staged + position[Pos(0)], x1 = staged + position[Pos(1)], x2 = staged + position[Pos(2)];
            byte* x3 = staged + position[Pos(3)], x4 = staged + position[Pos(4)], x5 = staged + position[Pos(5)];
            for (int ob = 0; ob < outputs2; ob += 2)
            {
                Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
                Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default;
                int* wq = w + ob * quads;
                for (int q = 0; q < quads; q++, wq += 2)
                {
                    int off = quad[q];
                    var w0 = Vector256.Create(wq[0]).AsSByte();
                    var w1 = Vector256.Create(wq[1]).AsSByte();
                    var v = Vector256.Load(x0 + off);
                    a0 = AvxVnni.MultiplyWideningAndAdd(a0, v, w0); b0 = AvxVnni.MultiplyWideningAndAdd(b0, v, w1);
                    v = Vector256.Load(x1 + off);
                    a1 = AvxVnni.MultiplyWideningAndAdd(a1, v, w0); b1 = AvxVnni.MultiplyWideningAndAdd(b1, v, w1);
                    v = Vector256.Load(x2 + off);
                    a2 = AvxVnni.MultiplyWideningAndAdd(a2, v, w0); b2 = AvxVnni.MultiplyWideningAndAdd(b2, v, w1);
                    v = Vector256.Load(x3 + off);
                    a3 = AvxVnni.MultiplyWideningAndAdd(a3, v, w0); b3 = AvxVnni.MultiplyWideningAndAdd(b3, v, w1);
                    v = Vector256.Load(x4 + off);
                    a4 = AvxVnni.MultiplyWideningAndAdd(a4, v, w0); b4 = AvxVnni.MultiplyWideningAndAdd(b4, v, w1);
                    v = Vector256.Load(x5 + off);
                    a5 = AvxVnni.MultiplyWideningAndAdd(a5, v, w0); b5 = AvxVnni.MultiplyWideningAndAdd(b5, v, w1);
                }
                // A repeated position (fewer than 6) computes and stores the same sums twice.
                int* ra = acc + ob * positions * Lanes, rb = ra + positions * Lanes;
                a0.Store(ra + Pos(0) * Lanes); b0.Store(rb + Pos(0) * Lanes);
                a1.Store(ra + Pos(1) * Lanes); b1.Store(rb + Pos(1) * Lanes);
                a2.Store(ra + Pos(2) * Lanes); b2.Store(rb + Pos(2) * Lanes);
                a3.Store(ra + Pos(3) * Lanes); b3.Store(rb + Pos(3) * Lanes);
                a4.Store(ra + Pos(4) * Lanes); b4.Store(rb + Pos(4) * Lanes);
                a5.Store(ra + Pos(5) * Lanes); b5.Store(rb + Pos(5) * Lanes);
            }
        }
#else
        throw new System.PlatformNotSupportedException("AVX-VNNI needs .NET 9 or later (it is a preview API in .NET 8)");
#endif
    }

    /// <summary>Dense accumulators of a tile: acc[o·8 + sample] = Σ_g staged[g]·w[o][g] over the staged groups
    /// of 4 features, 8 output channels at a time (weights packed [O/8][groups][8]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DenseVnni(byte* staged, int groups, int* w, int outputs8, int* acc)
    {
#if NET9_0_OR_GREATER
        for (int ob = 0; ob < outputs8; ob += 8)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            int* wg = w + ob * groups;
            byte* x = staged;
            for (int g = 0; g < groups; g++, wg += 8, x += 32)
            {
                var v = Vector256.Load(x);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, v, Vector256.Create(wg[0]).AsSByte());
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, v, Vector256.Create(wg[1]).AsSByte());
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, v, Vector256.Create(wg[2]).AsSByte());
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, v, Vector256.Create(wg[3]).AsSByte());
                a4 = AvxVnni.MultiplyWideningAndAdd(a4, v, Vector256.Create(wg[4]).AsSByte());
                a5 = AvxVnni.MultiplyWideningAndAdd(a5, v, Vector256.Create(wg[5]).AsSByte());
                a6 = AvxVnni.MultiplyWideningAndAdd(a6, v, Vector256.Create(wg[6]).AsSByte());
                a7 = AvxVnni.MultiplyWideningAndAdd(a7, v, Vector256.Create(wg[7]).AsSByte());
            }
            int* r = acc + ob * Lanes;
            a0.Store(r); a1.Store(r + 8); a2.Store(r + 16); a3.Store(r + 24);
            a4.Store(r + 32); a5.Store(r + 40); a6.Store(r + 48); a7.Store(r + 56);
        }
#else
        throw new System.PlatformNotSupportedException("AVX-VNNI needs .NET 9 or later (it is a preview API in .NET 8)");
#endif
    }

    /// <summary>The requantization of 8 accumulators (already max-pooled) of one output channel, as
    /// <see cref="Int8Math.Requantize"/> does for one: x = float(acc + correction)·ratio, clamped to
    /// [lo, hi], rounded half to even (vcvtps2dq in the default rounding mode), then the grid's code
    /// table[x], where table points lo bytes before the grid's first code; the 8 codes are written to dst.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Requantize(Vector256<int> acc, Vector256<int> correction, Vector256<float> ratio, Vector256<float> lo, Vector256<float> hi, byte* table, byte* dst)
    {
        Vector256<float> x = Avx.Multiply(Avx.ConvertToVector256Single(Avx2.Add(acc, correction)), ratio);
        Vector256<int> index = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(x, lo), hi));
        // Gathers 4 bytes at each index (the table has 3 bytes of slack) and keeps the first; then the
        // low byte of each int32 to the first 4 bytes of each 128-bit lane, and the two lanes together.
        Vector256<byte> bytes = Avx2.GatherVector256((int*)table, index, 1).AsByte();
        Vector256<int> packed = Avx2.Shuffle(bytes, Vector256.Create((byte)0, 4, 8, 12, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
            0, 4, 8, 12, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128)).AsInt32();
        *(long*)dst = Avx2.PermuteVar8x32(packed, Vector256.Create(0, 4, 0, 0, 0, 0, 0, 0)).AsInt64().ToScalar();
    }
}
