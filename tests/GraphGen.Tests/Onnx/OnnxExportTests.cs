using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Data;
using GraphGen.Onnx;
using GraphGen.Tests.Numerics;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GraphGen.Tests.Onnx;

/// <summary>Exports every test network to ONNX and checks that ONNX Runtime computes the same logits as
/// the generated inference code.</summary>
public sealed class OnnxExportTests
{
    public static TheoryData<string> Networks()
    {
        var data = new TheoryData<string>();
        foreach (string name in TestNets.All.Keys) data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Onnx_runtime_matches_inference(string name)
    {
        using var net = TestNets.Create(name);
        using var session = new InferenceSession(OnnxExporter.Export(net));
        foreach (int batch in new[] { 5, 1 })
        {
            var (x, _) = TestNets.Batch(net, batch, seed: 100 + batch);
            AssertSameLogits(net, session, x, batch);
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void Model_declares_a_symbolic_batch_and_names_its_input_and_output(string name)
    {
        using var net = TestNets.Create(name);
        using var session = new InferenceSession(OnnxExporter.Export(net));

        var input = Assert.Single(session.InputMetadata);
        Assert.Equal(OnnxExporter.InputName, input.Key);
        Assert.Equal(new[] { -1 }.Concat(net.InputShape), input.Value.Dimensions);
        Assert.Equal(OnnxExporter.BatchDimension, input.Value.SymbolicDimensions[0]);
        Assert.Equal(typeof(float), input.Value.ElementType);

        var output = Assert.Single(session.OutputMetadata);
        Assert.Equal(OnnxExporter.OutputName, output.Key);
        Assert.Equal(new[] { -1, net.Classes }, output.Value.Dimensions);
        Assert.Equal(OnnxExporter.BatchDimension, output.Value.SymbolicDimensions[0]);

        Assert.Equal("GraphGen", session.ModelMetadata.ProducerName);
        Assert.Equal(net.Name, session.ModelMetadata.GraphName);
    }

    [Fact]
    public void Trained_LeNet_matches_on_FashionMnist_test_images()
    {
        using var net = TestNets.Create("LeNet", maxBatch: 64);
        // A few steps on random data so the moving statistics are the network's own, not the initial ones.
        for (int step = 0; step < 8; step++)
        {
            var (bx, labels) = TestNets.Batch(net, 64, seed: 1000 + step);
            var result = net.TrainStep(bx, labels, 0.1f);
            Assert.True(result.IsFinite, $"step {step} was not finite");
        }

        const int count = 256;
        float[] x;
        if (FashionMnist.IsInstalled(FashionMnist.DefaultDirectory))
        {
            var test = FashionMnist.LoadTest(FashionMnist.DefaultDirectory).Take(count);
            Assert.Equal(count * net.InputSize, test.Pixels.Length);
            x = new float[test.Pixels.Length];
            for (int i = 0; i < x.Length; i++) x[i] = test.Pixels[i] / 255f;
        }
        else
        {
            x = TestNets.Batch(net, count, seed: 2000).X;
        }

        using var session = new InferenceSession(OnnxExporter.Export(net));
        AssertSameLogits(net, session, x, count);
    }

    [Fact]
    public void File_export_writes_the_same_bytes_and_replaces_an_existing_file()
    {
        using var net = TestNets.Create("ConvBnPool");
        string dir = Path.Combine(Path.GetTempPath(), "graphgen-onnx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            File.WriteAllText(path, "an older, longer file that must be replaced entirely by the export");
            OnnxExporter.Export(net, path);
            byte[] bytes = OnnxExporter.Export(net);
            Assert.Equal(bytes, File.ReadAllBytes(path));
            Assert.Equal(new[] { path }, Directory.GetFiles(dir)); // no temporary file left behind

            using var session = new InferenceSession(path);
            var (x, _) = TestNets.Batch(net, 3, seed: 5);
            AssertSameLogits(net, session, x, 3);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void File_export_to_a_missing_directory_fails_without_leaving_files()
    {
        using var net = TestNets.Create("Mlp");
        string dir = Path.Combine(Path.GetTempPath(), "graphgen-onnx-" + Guid.NewGuid().ToString("N"));
        Assert.ThrowsAny<IOException>(() => OnnxExporter.Export(net, Path.Combine(dir, "model.onnx")));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Export_is_deterministic_and_follows_the_parameters()
    {
        using var net = TestNets.Create("Mlp");
        byte[] first = OnnxExporter.Export(net);
        Assert.Equal(first, OnnxExporter.Export(net));

        net.Tensor("dense1.weight")[0] += 1f;
        byte[] changed = OnnxExporter.Export(net);
        Assert.NotEqual(first, changed);

        using var session = new InferenceSession(changed);
        var (x, _) = TestNets.Batch(net, 4, seed: 9);
        AssertSameLogits(net, session, x, 4);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        using var net = TestNets.Create("Mlp");
        Assert.Throws<ArgumentNullException>(() => OnnxExporter.Export(null!));
        Assert.Throws<ArgumentNullException>(() => OnnxExporter.Export(null!, "x.onnx"));
        Assert.Throws<ArgumentNullException>(() => OnnxExporter.Export(net, null!));
        Assert.Throws<ArgumentException>(() => OnnxExporter.Export(net, ""));
    }

    [Fact]
    public void Unknown_layer_kind_is_not_supported()
    {
        using var net = TestNets.Create("Mlp");
        var layers = net.Layers.ToList();
        layers[1] = layers[1] with { Kind = (LayerKind)99 };
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportLayers(net, layers));
        Assert.Contains(layers[1].Name, e.Message);
    }

    [Fact]
    public void Image_layer_on_a_flat_tensor_is_not_supported()
    {
        using var net = TestNets.Create("Mlp");
        var layers = net.Layers.ToList();
        layers[1] = new LayerInfo("maxpool9", LayerKind.MaxPool2D, layers[1].InputShape, layers[1].OutputShape, Kernel: 2, Stride: 2);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportLayers(net, layers));
        Assert.Contains("maxpool9", e.Message);
    }

    [Fact]
    public void Inconsistent_shapes_are_rejected()
    {
        using var net = TestNets.Create("Pools");
        var layers = net.Layers.ToList();
        int pool = layers.FindIndex(l => l.Kind == LayerKind.MaxPool2D);
        layers[pool] = layers[pool] with { OutputShape = [4, 3, 3] }; // as if the pool were ceil-mode
        Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, layers));
    }

    private static void AssertSameLogits(INetwork net, InferenceSession session, float[] x, int batch)
    {
        var expected = new float[batch * net.Classes];
        net.Infer(x, expected);

        long[] shape = new long[] { batch }.Concat(net.InputShape.Select(d => (long)d)).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [OnnxExporter.InputName], [input], [OnnxExporter.OutputName]);
        var output = Assert.Single(outputs);
        Assert.Equal(new long[] { batch, net.Classes }, output.GetTensorTypeAndShape().Shape);
        ReadOnlySpan<float> actual = output.GetTensorDataAsSpan<float>();

        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(float.IsFinite(expected[i]) && float.IsFinite(actual[i]), $"{net.Name}: logit {i} is not finite");
            maxAbs = Math.Max(maxAbs, Math.Abs(expected[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
        }
        double tolerance = 1e-4 * Math.Max(1, maxAbs);
        Assert.True(maxDiff <= tolerance, $"{net.Name}, batch {batch}: max |ONNX − Infer| = {maxDiff:G4} > {tolerance:G4}");
    }
}
