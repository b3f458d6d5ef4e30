using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using GraphGen.Quantization;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Quantization;

/// <summary>The tiled int8 inference (8 samples in the vector lanes): every path this processor has, on batch
/// sizes that are and are not multiples of the tile, against the plainly written quantized computation; and
/// the requantization grid and its vector epilogue against their definitions.</summary>
public sealed class Int8TileTests
{
    // The kernel paths this processor runs.
    private static IEnumerable<Int8Kernel> Paths() =>
        QuantizedNetwork.VnniSupported ? [Int8Kernel.Scalar, Int8Kernel.AvxVnni] : [Int8Kernel.Scalar];

    public static TheoryData<string, int> NetsAndBatches()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in new[] { "LeNet", "ResidualNet", "ResidualEdges", "StridePad", "Pools", "Mlp", "WideKernel" })
            foreach (int n in new[] { 1, 7, 8, 9, 33 }) data.Add(name, n);
        data.Add("LeNet", 256);
        data.Add("ResidualNet", 256);
        return data;
    }

    [Theory]
    [MemberData(nameof(NetsAndBatches))]
    public void Every_path_and_thread_count_matches_the_reference_on_any_batch_size(string name, int n)
    {
        using var net = TestNets.Create(name);
        var (calibration, _) = TestNets.Batch(net, 64, seed: 5);
        using var q = Quantizer.Quantize(net, calibration, new Int8Options { Kernel = Int8Kernel.Scalar, Threads = 1 });
        var (x, _) = TestNets.Batch(net, n, seed: 40 + n);
        var expected = new float[n * q.Classes];
        for (int i = 0; i < n; i++)
            QuantizedReference.Logits(q, x[(i * net.InputSize)..((i + 1) * net.InputSize)]).CopyTo(expected, i * q.Classes);
        foreach (Int8Kernel kernel in Paths())
            foreach (int threads in new[] { 1, 2 })
            {
                using var k = q.With(new Int8Options { Kernel = kernel, Threads = threads });
                var logits = new float[n * q.Classes];
                k.Infer(x, logits);
                Assert.True(expected.SequenceEqual(logits), $"{name}, {n} samples, {kernel}, {threads} thread(s): logits differ from the reference");
            }
    }

    [Fact]
    public void A_tile_gives_each_sample_what_it_gives_alone()
    {
        // Neighbours in the lanes must not leak into each other: sample i of a batch equals sample i run alone.
        using var net = TestNets.Create("LeNet");
        var (calibration, _) = TestNets.Batch(net, 64, seed: 5);
        using var q = Quantizer.Quantize(net, calibration, new Int8Options { Threads = 1 });
        var (x, _) = TestNets.Batch(net, 11, seed: 41);
        var batch = new float[11 * q.Classes];
        q.Infer(x, batch);
        for (int i = 0; i < 11; i++)
        {
            var alone = new float[q.Classes];
            q.Infer(x.AsSpan(i * net.InputSize, net.InputSize), alone);
            Assert.Equal(alone, batch[(i * q.Classes)..((i + 1) * q.Classes)]);
        }
    }

    [Theory]
    [InlineData("StridePad", 13)] // 168 bytes a sample: 10 blocks of 16 and a tail of 8
    [InlineData("Pools", 5)]
    [InlineData("LeNet", 17)]
    public void Byte_pixels_interleave_as_their_float_values_do(string name, int n)
    {
        // With byte calibration the pixels are the codes, which are interleaved 16 at a time without a table.
        using var net = TestNets.Create(name);
        var rng = new Random(8);
        var pixels = new byte[n * net.InputSize];
        rng.NextBytes(pixels);
        using var q = Quantizer.Quantize(net, pixels);
        foreach (Int8Kernel kernel in Paths())
        {
            using var k = q.With(new Int8Options { Kernel = kernel, Threads = 2 });
            var fromBytes = new float[n * q.Classes];
            var fromFloats = new float[n * q.Classes];
            k.Infer(pixels, fromBytes);
            k.Infer(pixels.Select(p => p / 255f).ToArray(), fromFloats);
            Assert.Equal(fromFloats, fromBytes);
        }
    }

    // Activation is internal, so the theory takes its number.
    public static TheoryData<int, float, int> Grids() => new()
    {
        { (int)Activation.Identity, 0.02f, 128 },
        { (int)Activation.Identity, 0.02f, 0 },
        { (int)Activation.Identity, 0.02f, 255 },
        { (int)Activation.ReLU, 0.01f, 0 },
        { (int)Activation.LeakyReLU, 0.05f, 40 },
        { (int)Activation.Sigmoid, 1f / 255, 0 },
        { (int)Activation.Sigmoid, 0.001f, 0 },
        { (int)Activation.Tanh, 2f / 255, 128 },
    };

    [Theory]
    [MemberData(nameof(Grids))]
    public void Grid_codes_are_the_exact_codes_at_most_one_step_off(int activation, float scale, int zeroPoint)
    {
        var act = (Activation)activation;
        const double slope = 0.1;
        int Exact(double v) => Int8Math.Quantize(Int8Math.Activate(act, slope, v), scale, zeroPoint);
        var (step, lo, hi, codes) = Int8Math.Grid(act, slope, scale, zeroPoint);
        Assert.InRange(hi - lo + 1, 1, Int8Math.MaxGrid);
        Assert.InRange(step, scale / 8.0, double.MaxValue);
        // The ends of the grid are the codes of ±infinity: the clamp loses nothing.
        Assert.Equal(Exact(-1e30), codes[0]);
        Assert.Equal(Exact(1e30), codes[hi - lo]);
        for (int i = lo; i <= hi; i++)
        {
            Assert.Equal(Exact(i * step), codes[i - lo]);
            if (i > lo) Assert.True(codes[i - lo] >= codes[i - lo - 1], $"codes decrease at {i}");
        }
        // Any pre-activation gets the code of its nearest grid point, within one code of its exact code.
        var rng = new Random(7);
        for (int t = 0; t < 20000; t++)
        {
            double v = (lo + (hi - lo) * rng.NextDouble()) * step * 1.2;
            int grid = codes[(int)Math.Round(Math.Clamp(v / step, lo, hi), MidpointRounding.ToEven) - lo];
            Assert.InRange(grid, Exact(v) - 1, Exact(v) + 1);
        }
    }

    [SkippableFact]
    public unsafe void Vector_requantization_matches_the_scalar_rule()
    {
        Skip.IfNot(Avx2.IsSupported, "this processor has no AVX2");
        var (step, lo, hi, codes) = Int8Math.Grid(Activation.Sigmoid, 0, 1f / 255, 0);
        var rng = new Random(9);
        var acc = new int[8];
        var actual = new byte[8];
        int[] edges = [int.MinValue / 2, int.MaxValue / 2, 0, -1, 1, (int)(lo / 0.37), (int)(hi / 0.37)];
        foreach (float ratio in new[] { 0.37f, 1e-4f, 3.1f, 1e6f })
            for (int t = 0; t < 2000; t++)
            {
                for (int i = 0; i < 8; i++) acc[i] = t < 8 ? edges[(t + i) % edges.Length] : rng.Next(-(1 << 26), 1 << 26) >> rng.Next(0, 20);
                int correction = rng.Next(-1000, 1000);
                fixed (int* a = acc) fixed (byte* table = codes) fixed (byte* dst = actual)
                    Int8Kernels.Requantize(Vector256.Load(a), Vector256.Create(correction), Vector256.Create(ratio), Vector256.Create((float)lo),
                        Vector256.Create((float)hi), table - lo, dst);
                for (int i = 0; i < 8; i++)
                    Assert.Equal(Int8Math.Requantize(acc[i] + correction, ratio, lo, hi, codes), actual[i]);
            }
    }
}
