using System;
using System.Linq;
using GraphGen.Onnx;
using GraphGen.Tests.Numerics;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace GraphGen.Tests.Onnx;

/// <summary>Exports hand-built graph networks (residual blocks, concat blocks, a value read by several
/// layers, global average pooling, LeakyReLU, SiLU and Dropout, which exports as Identity) and checks ONNX Runtime's logits against the double-precision reference in inference
/// mode; and checks that malformed graphs are rejected with a message naming the layer.</summary>
public sealed class OnnxGraphExportTests
{
    public static TheoryData<string> Graphs() => new(GraphNets.All.Keys);

    [Theory]
    [MemberData(nameof(Graphs))]
    public void Onnx_runtime_matches_the_reference(string name)
    {
        using var net = GraphNets.All[name](7);
        AssertMatchesReference(net, name, 5, 1);
    }

    private static void AssertMatchesReference(INetwork net, string name, params int[] batches)
    {
        using var session = new InferenceSession(OnnxExporter.Export(net));
        var reference = new ReferenceNetwork(net);
        foreach (int batch in batches)
        {
            var (x, _) = TestNets.Batch(net, batch, seed: 100 + batch);
            double[] expected = reference.Forward(TestNets.ToDouble(x), batch, training: false);

            long[] shape = new long[] { batch }.Concat(net.InputShape.Select(d => (long)d)).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(x, shape);
            using var options = new RunOptions();
            using var outputs = session.Run(options, [OnnxExporter.InputName], [input], [OnnxExporter.OutputName]);
            var output = Assert.Single(outputs);
            Assert.Equal(new long[] { batch, net.Classes }, output.GetTensorTypeAndShape().Shape);
            ReadOnlySpan<float> actual = output.GetTensorDataAsSpan<float>();

            double maxAbs = expected.Max(Math.Abs), maxDiff = 0;
            for (int i = 0; i < expected.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
            double tolerance = 1e-4 * Math.Max(1, maxAbs);
            Assert.True(maxDiff <= tolerance, $"{name}, batch {batch}: max |ONNX − reference| = {maxDiff:G4} > {tolerance:G4}");
        }
    }

    [Fact]
    public void Malformed_graphs_are_rejected_naming_the_layer()
    {
        using var net = GraphNets.All["ResNet"](7);
        var layers = net.Layers.ToList();
        int add1 = layers.FindIndex(l => l.Name == "add1"), add2 = layers.FindIndex(l => l.Name == "add2");

        void Rejects(string because, Func<LayerInfo, LayerInfo> change, int at, params string[] expected)
        {
            var bad = layers.ToArray();
            bad[at] = change(bad[at]);
            var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, bad));
            foreach (string part in expected.Append(bad[at].Name))
                Assert.True(e.Message.Contains(part, StringComparison.Ordinal), $"{because}: '{e.Message}' lacks '{part}'");
        }
        Rejects("unknown input", l => l with { Inputs = ["batchnorm3", "relu9"] }, add1, "relu9");
        Rejects("later layer", l => l with { Inputs = ["batchnorm3", "relu3"] }, add1, "relu3");
        Rejects("one input", l => l with { Inputs = ["batchnorm3"] }, add1, "reads 1", "expected 2");
        Rejects("three inputs", l => l with { Inputs = ["batchnorm3", "relu1", "relu1"] }, add1, "reads 3", "expected 2");
        Rejects("shapes differ", l => l with { Inputs = ["batchnorm4", "relu3"] }, add2, "batchnorm4 [8, 4, 4]", "relu3 [4, 8, 8]");
        Rejects("duplicate name", l => l with { Name = "conv1" }, 1, "earlier layer");
        Rejects("named like the input", l => l with { Name = LayerInfo.NetworkInput }, 1, "network input");

        // The projection shortcut dropped: batchnorm5 is then read by no layer.
        var unread = layers.ToArray();
        unread[add2] = unread[add2] with { Inputs = ["batchnorm4", "batchnorm4"] };
        var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, unread));
        Assert.Contains("no layer reads the output of batchnorm5,", e.Message);
    }

    [Fact]
    public void Malformed_concats_are_rejected_naming_the_layer_and_shapes()
    {
        using var net = GraphNets.All["InceptionBlock"](7);
        var layers = net.Layers.ToList();
        int concat1 = layers.FindIndex(l => l.Name == "concat1");

        void Rejects(string because, Func<LayerInfo, LayerInfo> change, params string[] expected)
        {
            var bad = layers.ToArray();
            bad[concat1] = change(bad[concat1]);
            var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, bad));
            foreach (string part in expected.Append("concat1"))
                Assert.True(e.Message.Contains(part, StringComparison.Ordinal), $"{because}: '{e.Message}' lacks '{part}'");
        }
        Rejects("one input", l => l with { Inputs = ["conv2"] }, "reads 1", "expected at least 2");
        Rejects("output C is not the sum", l => l with { OutputShape = [6, 5, 5] }, "declares output [6, 5, 5]", "gives [5, 5, 5]");
        Rejects("first input is not the InputShape", l => l with { Inputs = ["relu1", "conv2"] }, "takes [2, 5, 5]", "relu1 gives [3, 5, 5]");
    }

    [Fact]
    public void Concat_of_values_that_differ_in_height_and_width_or_rank_is_rejected()
    {
        var b = new GraphBuilder(1, 4, 4);
        b.Concat(b.Conv(2, 3), LayerInfo.NetworkInput); // 2×2×2 and 1×4×4
        b.Dense(2);
        using var net = b.Build("HeightWidth", 1);
        var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(net));
        Assert.Contains("concat1 (Concat) concatenates conv1 [2, 2, 2] and input [1, 4, 4]", e.Message);

        b = new GraphBuilder(1, 2, 2);
        b.Concat(LayerInfo.NetworkInput, b.Dense(3));
        b.Dense(2);
        using var flat = b.Build("ImageAndFlat", 1);
        e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.Export(flat));
        Assert.Contains("concat1 (Concat) concatenates input [1, 2, 2] and dense1 [3]", e.Message);
    }

    [Fact]
    public void LeakyReLU_slope_outside_zero_to_one_is_rejected_naming_the_layer()
    {
        using var net = GraphNets.All["LeakySiLUBlock"](7);
        var layers = net.Layers.ToArray();
        int leaky = Array.FindIndex(layers, l => l.Kind == LayerKind.LeakyReLU);
        foreach (double slope in new[] { -0.01, 1, 1.5, double.NaN, double.NegativeInfinity })
        {
            var bad = layers.ToArray();
            bad[leaky] = bad[leaky] with { Slope = slope };
            var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, bad));
            Assert.Contains($"layer leakyrelu1 (LeakyReLU) has slope {slope}, expected a value in [0, 1)", e.Message);
        }
    }

    [Fact]
    public void Dropout_rate_outside_zero_to_one_is_rejected_naming_the_layer()
    {
        using var net = GraphNets.All["DropoutBlock"](7);
        var layers = net.Layers.ToArray();
        int dropout = Array.FindIndex(layers, l => l.Name == "dropout2");
        foreach (double rate in new[] { -0.1, 1, 2, double.NaN, double.PositiveInfinity })
        {
            var bad = layers.ToArray();
            bad[dropout] = bad[dropout] with { Rate = rate };
            var e = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportLayers(net, bad));
            Assert.Contains($"layer dropout2 (Dropout) has rate {rate}, expected a value in [0, 1)", e.Message);
        }
    }

    [Fact]
    public void A_layer_named_like_the_SiLU_sigmoid_keeps_its_own_value()
    {
        // silu1's Sigmoid value is silu1_sigmoid; a later layer of that name must not be confused with it.
        var b = new GraphBuilder(3);
        b.SiLU(b.Dense(4)); b.Tanh(); b.Dense(2);
        using var built = b.Build("Names", 3);
        var layers = built.Layers.ToArray();
        layers[2] = layers[2] with { Name = "silu1_sigmoid" };
        layers[3] = layers[3] with { Inputs = ["silu1_sigmoid"] };
        using var net = new HandNetwork("Names", [3], layers, built.Tensors.ToArray());
        foreach (var t in built.Tensors) built.Tensor(t.Name).CopyTo(net.Tensor(t.Name));
        AssertMatchesReference(net, "Names", 4);
    }

    [Fact]
    public void Global_average_pool_on_a_flat_value_is_not_supported()
    {
        var b = new GraphBuilder(4);
        b.GlobalAvgPool(); b.Dense(2);
        using var net = b.Build("FlatGap", 1);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(net));
        Assert.Contains("globalavgpool1", e.Message);
    }
}
