using System;
using System.Linq;
using System.Runtime.Intrinsics.X86;
using GraphGen.Quantization;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Quantization;

/// <summary>Int8 inference: every kernel path gives the same bytes as the scalar path, the scalar path
/// gives what a plainly written quantized computation gives, and the result stays close to float32.</summary>
public sealed class QuantizerTests
{
    // Every test network whose layers int8 inference supports (the Concat networks are refused).
    public static TheoryData<string> Supported()
    {
        var data = new TheoryData<string>();
        foreach (string name in TestNets.All.Keys.Where(n => !n.StartsWith("Concat", StringComparison.Ordinal) && !GroupedOrRectangular.Contains(n))) data.Add(name);
        return data;
    }

    private static QuantizedNetwork Quantize(INetwork net, Int8Kernel kernel = Int8Kernel.Scalar, int threads = 1)
    {
        var (calibration, _) = TestNets.Batch(net, 64, seed: 5);
        return Quantizer.Quantize(net, calibration, new Int8Options { Kernel = kernel, Threads = threads });
    }

    private static float[] Infer(QuantizedNetwork q, float[] x)
    {
        var logits = new float[x.Length / q.InputSize * q.Classes];
        q.Infer(x, logits);
        return logits;
    }

    [Theory]
    [MemberData(nameof(Supported))]
    public void Scalar_path_matches_the_plain_quantized_computation(string name)
    {
        using var net = TestNets.Create(name);
        using var q = Quantize(net);
        var (x, _) = TestNets.Batch(net, 7, seed: 11);
        float[] logits = Infer(q, x);
        for (int i = 0; i < 7; i++)
        {
            float[] expected = QuantizedReference.Logits(q, x[(i * net.InputSize)..((i + 1) * net.InputSize)]);
            Assert.Equal(expected, logits[(i * q.Classes)..((i + 1) * q.Classes)]);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Supported))]
    public void Vnni_path_and_threads_give_the_scalar_bytes(string name)
    {
        Skip.IfNot(AvxVnni.IsSupported, "this processor has no AVX-VNNI");
        using var net = TestNets.Create(name);
        using var scalar = Quantize(net);
        using var vnni = scalar.With(new Int8Options { Kernel = Int8Kernel.AvxVnni, Threads = 2 });
        Assert.Equal(Int8Kernel.AvxVnni, vnni.Kernel);
        var (x, _) = TestNets.Batch(net, 37, seed: 12);
        Assert.Equal(Infer(scalar, x), Infer(vnni, x));
    }

    [SkippableFact]
    public void Vnni_convolution_kernel_matches_scalar_on_extreme_codes()
    {
        // Codes 0 and 255 against weights ±127 everywhere: the largest products, any sign.
        Skip.IfNot(AvxVnni.IsSupported, "this processor has no AVX-VNNI");
        using var net = TestNets.Create("StridePad");
        using var scalar = Quantize(net);
        using var vnni = scalar.With(new Int8Options { Kernel = Int8Kernel.AvxVnni, Threads = 1 });
        var rng = new Random(3);
        var x = Enumerable.Range(0, 9 * net.InputSize).Select(_ => rng.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)rng.NextDouble() }).ToArray();
        Assert.Equal(Infer(scalar, x), Infer(vnni, x));
    }

    [Theory]
    [MemberData(nameof(Supported))]
    public void Int8_logits_stay_close_to_float32(string name)
    {
        using var net = TestNets.Create(name);
        using var q = Quantize(net, Int8Kernel.Auto, 2);
        var (x, _) = TestNets.Batch(net, 64, seed: 13);
        var expected = new float[64 * net.Classes];
        net.Infer(x, expected);
        float[] actual = Infer(q, x);
        // Quantization error: a few percent of the logits' spread, and the same top class almost always.
        double spread = expected.Max() - expected.Min();
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 0.1 * spread, $"{name}: largest logit error {worst:G3} against a spread of {spread:G3}");
        int agree = Enumerable.Range(0, 64).Count(i => ArgMax(expected, i, net.Classes) == ArgMax(actual, i, net.Classes));
        Assert.True(agree >= 56, $"{name}: top class agrees on {agree} of 64 samples");
    }

    internal static int ArgMax(float[] logits, int sample, int classes)
    {
        int best = 0;
        for (int k = 1; k < classes; k++) if (logits[sample * classes + k] > logits[sample * classes + best]) best = k;
        return best;
    }

    [Fact]
    public void Byte_images_quantize_to_their_own_pixels()
    {
        using var net = TestNets.Create("LeNet");
        var rng = new Random(4);
        var pixels = new byte[20 * net.InputSize];
        rng.NextBytes(pixels);
        using var q = Quantizer.Quantize(net, pixels.AsSpan(0, 10 * net.InputSize));
        Assert.Equal(1f / 255, q.Values[0].Scale);
        Assert.Equal(0, q.Values[0].ZeroPoint);
        var fromBytes = new float[20 * q.Classes];
        q.Infer(pixels, fromBytes);
        float[] fromFloats = Infer(q, pixels.Select(p => p / 255f).ToArray());
        Assert.Equal(fromFloats, fromBytes);
    }

    [Fact]
    public void LeNet_folds_batch_norm_and_fuses_activation_and_pool()
    {
        using var net = TestNets.Create("LeNet");
        using var q = Quantize(net);
        Assert.Equal(["conv1+batchnorm1+sigmoid1+maxpool1", "conv2+batchnorm2+sigmoid2+maxpool2", "dense1+batchnorm3+sigmoid3", "dense2+batchnorm4+sigmoid4", "dense3"],
            q.Ops.Select(o => o.Name));
        Assert.True(((LinearOp)q.Ops[^1]).Final);
    }

    // Test networks with grouped or rectangular convolutions, which int8 inference refuses.
    private static readonly string[] GroupedOrRectangular = { "RectangularNet", "GroupedNet", "DepthwiseNet" };

    [Theory]
    [InlineData("RectangularNet")]
    [InlineData("GroupedNet")]
    [InlineData("DepthwiseNet")]
    public void Grouped_and_rectangular_convolutions_are_refused_by_name(string name)
    {
        using var net = TestNets.Create(name);
        string conv = net.Layers.First(l => l.Kind == LayerKind.Conv2D && (l.Groups != 1 || l.KernelWidth != l.Kernel || l.StrideWidth != l.Stride || l.PaddingWidth != l.Padding)).Name;
        var e = Assert.Throws<NotSupportedException>(() => Quantize(net));
        Assert.Contains($"layer {conv} is a grouped or rectangular Conv2D", e.Message);
    }

    [Theory]
    [InlineData("ConcatNet")]
    [InlineData("ConcatEdges")]
    public void Unsupported_layers_are_refused_by_name(string name)
    {
        using var net = TestNets.Create(name);
        string concat = net.Layers.First(l => l.Kind == LayerKind.Concat).Name;
        var e = Assert.Throws<NotSupportedException>(() => Quantize(net));
        Assert.Contains($"layer {concat} is of kind Concat", e.Message);
    }

    [Fact]
    public void Bad_lengths_are_refused()
    {
        using var net = TestNets.Create("Mlp");
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(net, new float[net.InputSize + 1]));
        Assert.Throws<ArgumentException>(() => Quantizer.Quantize(net, ReadOnlySpan<byte>.Empty));
        using var q = Quantize(net);
        var e = Assert.Throws<ArgumentException>(() => q.Infer(new float[2 * net.InputSize], new float[3 * q.Classes]));
        Assert.Contains("2 samples need", e.Message);
        Assert.Throws<ArgumentException>(() => q.Infer(new float[net.InputSize + 1], new float[q.Classes]));
    }

    [Fact]
    public void Inference_allocates_nothing_after_the_first_call()
    {
        using var net = TestNets.Create("LeNet");
        using var q = Quantize(net, Int8Kernel.Auto, 2);
        var (x, _) = TestNets.Batch(net, 32, seed: 14);
        var logits = new float[32 * q.Classes];
        q.Infer(x, logits);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++) q.Infer(x, logits);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
