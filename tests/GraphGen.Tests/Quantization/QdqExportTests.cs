using System;
using System.Linq;
using GraphGen.Data;
using GraphGen.Onnx;
using GraphGen.Quantization;
using GraphGen.Tests.Numerics;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GraphGen.Tests.Quantization;

/// <summary>The QDQ export of a quantized network, run by ONNX Runtime 1.31.1 (which fuses the pattern into its
/// own integer kernels and requantizes in its own way), against the int8 logits.</summary>
public sealed class QdqExportTests
{
    private static float[] RunOrt(QuantizedNetwork q, float[] x)
    {
        using var session = new InferenceSession(QdqExporter.Export(q));
        int n = x.Length / q.InputSize;
        long[] shape = [n, .. q.InputShape.Select(d => (long)d)];
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [OnnxExporter.InputName], [input], [OnnxExporter.OutputName]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(QuantizerTests.Supported), MemberType = typeof(QuantizerTests))]
    public void Onnx_runtime_agrees_with_int8_logits(string name)
    {
        using var net = TestNets.Create(name);
        var (calibration, _) = TestNets.Batch(net, 64, seed: 31);
        using var q = Quantizer.Quantize(net, calibration);
        var (x, _) = TestNets.Batch(net, 50, seed: 32);
        var expected = new float[50 * q.Classes];
        q.Infer(x, expected);
        float[] actual = RunOrt(q, x);
        Assert.Equal(expected.Length, actual.Length);
        // A code that lands one step away in some layer moves the logits by about a step of that layer's scale.
        double spread = expected.Max() - expected.Min();
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 0.05 * spread + 1e-5, $"{name}: largest difference {worst:G3}, logits spread {spread:G3}");
    }

    [SkippableFact]
    public void Onnx_runtime_agrees_on_FashionMnist_test_images()
    {
        Skip.IfNot(FashionMnist.IsInstalled(FashionMnist.DefaultDirectory), "FashionMNIST is not installed");
        using var net = TestNets.Create("LeNet", maxBatch: 64);
        var train = FashionMnist.LoadTrain(FashionMnist.DefaultDirectory).Take(2048);
        var pixels = new float[64 * net.InputSize];
        var labels = new int[64];
        for (int step = 0; step < 32; step++)
        {
            for (int i = 0; i < pixels.Length; i++) pixels[i] = train.Pixels[step * pixels.Length + i] / 255f;
            train.Labels.Slice(step * 64, 64).CopyTo(labels);
            Assert.True(net.TrainStep(pixels, labels, 0.5f).IsFinite);
        }
        using var q = Quantizer.Quantize(net, train.Pixels[..(300 * net.InputSize)]);
        var test = FashionMnist.LoadTest(FashionMnist.DefaultDirectory).Take(2000);
        var x = test.Pixels.ToArray().Select(p => p / 255f).ToArray();
        var expected = new float[test.Count * 10];
        q.Infer(test.Pixels, expected);
        float[] actual = RunOrt(q, x);
        int agree = Enumerable.Range(0, test.Count).Count(i => QuantizerTests.ArgMax(expected, i, 10) == QuantizerTests.ArgMax(actual, i, 10));
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(agree >= 0.995 * test.Count, $"same top class on {agree} of {test.Count}");
        Assert.True(worst <= 0.25, $"largest logit difference {worst:G3}");
    }
}
