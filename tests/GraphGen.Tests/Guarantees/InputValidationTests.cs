using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>
/// Every bad argument to the public API is refused with an ArgumentException whose message names the
/// problem, and the refused call leaves the network as it was: parameters, moving statistics and
/// whatever the next step depends on (checked against a twin that never saw the bad call).
/// </summary>
public class InputValidationTests
{
    private delegate void BadCall(INetwork net);

    private sealed record Case(string Name, BadCall Call, string[] MessageParts, string? Param = null, bool OutOfRange = false);

    private static IEnumerable<Case> TrainCases(INetwork net)
    {
        int size = net.InputSize, classes = net.Classes, max = net.MaxBatch;
        float[] Inputs(int n) => TestNets.Batch(net, n, seed: 77).X;
        int[] Labels(int n) => Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        float[] WithValue(int n, int at, float value) { var x = Inputs(n); x[at] = value; return x; }

        yield return new("no labels", n => n.TrainStep(Array.Empty<float>(), Array.Empty<int>(), 0.1f), new[] { "empty" }, "labels");
        yield return new("no labels, some inputs", n => n.TrainStep(Inputs(1), Array.Empty<int>(), 0.1f), new[] { "empty" }, "labels");
        yield return new("batch over MaxBatch", n => n.TrainStep(Inputs(max + 1), Labels(max + 1), 0.1f), new[] { "MaxBatch", $"{max + 1}", $"{max}" }, "labels");
        yield return new("one value short", n => n.TrainStep(Inputs(4).AsSpan(1), Labels(4), 0.1f), new[] { $"{4 * size - 1}", $"{4 * size}" }, "inputs");
        yield return new("one sample too many", n => n.TrainStep(Inputs(5), Labels(4), 0.1f), new[] { $"{5 * size}", $"{4 * size}" }, "inputs");
        yield return new("byte pixels too few", n => n.TrainStep(new byte[3 * size - 1], Labels(3), 0.1f), new[] { $"{3 * size - 1}" }, "inputs");
        yield return new("label = Classes", n => n.TrainStep(Inputs(4), new[] { 0, 1, classes, 0 }, 0.1f), new[] { $"label {classes}", "index 2", $"0..{classes - 1}" }, "labels");
        yield return new("negative label", n => n.TrainStep(Inputs(3), new[] { 0, -1, 0 }, 0.1f), new[] { "label -1", "index 1" }, "labels");
        yield return new("NaN input", n => n.TrainStep(WithValue(5, 3 * size + 2, float.NaN), Labels(5), 0.1f), new[] { "NaN" }, "inputs");
        yield return new("+inf input", n => n.TrainStep(WithValue(5, 4 * size + size - 1, float.PositiveInfinity), Labels(5), 0.1f), new[] { "infinity" }, "inputs");
        yield return new("-inf input", n => n.TrainStep(WithValue(3, 0, float.NegativeInfinity), Labels(3), 0.1f), new[] { "infinity" }, "inputs");
        yield return new("NaN learning rate", n => n.TrainStep(Inputs(3), Labels(3), float.NaN), new[] { "learning rate" }, "learningRate", OutOfRange: true);
        yield return new("negative learning rate", n => n.TrainStep(Inputs(3), Labels(3), -0.1f), new[] { "learning rate" }, "learningRate", OutOfRange: true);
        yield return new("infinite learning rate", n => n.TrainStep(Inputs(3), Labels(3), float.PositiveInfinity), new[] { "learning rate" }, "learningRate", OutOfRange: true);
    }

    private static IEnumerable<Case> InferCases(INetwork net)
    {
        int size = net.InputSize, classes = net.Classes;
        float[] Inputs(int n) => TestNets.Batch(net, n, seed: 78).X;
        yield return new("empty input", n => n.Infer(Array.Empty<float>(), Array.Empty<float>()), new[] { "no inputs" }, "inputs");
        yield return new("empty byte input", n => n.Infer(Array.Empty<byte>(), new float[classes]), new[] { "no inputs" }, "inputs");
        yield return new("not a multiple of InputSize", n => n.Infer(Inputs(3).AsSpan(0, 3 * size - 1), new float[3 * classes]), new[] { "multiple", $"{size}" }, "inputs");
        yield return new("logits too short", n => n.Infer(Inputs(3), new float[3 * classes - 1]), new[] { "logits", $"{3 * classes}" }, "logits");
        yield return new("logits too long", n => n.Infer(Inputs(3), new float[4 * classes]), new[] { "logits", $"{4 * classes}" }, "logits");
        yield return new("NaN input", n => { var x = Inputs(300); x[299 * size] = float.NaN; n.Infer(x, new float[300 * classes]); }, new[] { "NaN" }, "inputs");
        yield return new("-inf input", n => { var x = Inputs(2); x[1] = float.NegativeInfinity; n.Infer(x, new float[2 * classes]); }, new[] { "infinity" }, "inputs");
    }

    [Theory]
    [InlineData("LeNet")]
    [InlineData("Mlp")]
    [InlineData("InputBatchNorm")]
    public void BadArgumentsAreRefusedAndChangeNothing(string name)
    {
        using INetwork net = TestNets.Create(name, threads: 2, maxBatch: 16);
        using INetwork twin = TestNets.Create(name, threads: 2, maxBatch: 16);
        // One good step first, so the network has a previous batch and folded inference weights.
        var (x, labels) = TestNets.Batch(net, 9, seed: 1);
        var probe = TestNets.Batch(net, 5, seed: 2).X;
        net.TrainStep(x, labels, 0.2f);
        twin.TrainStep(x, labels, 0.2f);
        net.Infer(probe, new float[5 * net.Classes]);

        foreach (Case c in TrainCases(net).Concat(InferCases(net)))
        {
            var before = Bits.Snapshot(net);
            Exception e = Assert.ThrowsAny<ArgumentException>(() => c.Call(net));
            string what = $"{name}, {c.Name}";
            if (c.OutOfRange) Assert.IsType<ArgumentOutOfRangeException>(e);
            foreach (string part in c.MessageParts)
                Assert.True(e.Message.Contains(part, StringComparison.Ordinal), $"{what}: message '{e.Message}' does not mention '{part}'");
            if (c.Param is not null) Assert.True(c.Param == ((ArgumentException)e).ParamName, $"{what}: ParamName is '{((ArgumentException)e).ParamName}', expected '{c.Param}'");
            Bits.AssertIdentical(before, Bits.Snapshot(net), $"{what}: tensors after the refused call");
        }

        // Nothing lost: the next good step and inference give the same bits as on the twin that saw no bad call.
        var (x2, labels2) = TestNets.Batch(net, 16, seed: 3);
        StepResult a = net.TrainStep(x2, labels2, 0.2f);
        StepResult b = twin.TrainStep(x2, labels2, 0.2f);
        Assert.True(Bits.SameBits(b.LossSum, a.LossSum), $"{name}: loss after the bad calls {a.LossSum:R}, twin {b.LossSum:R}");
        Assert.Equal(b.Correct, a.Correct);
        Bits.AssertIdentical(Bits.Snapshot(twin), Bits.Snapshot(net), $"{name}: tensors after a good step following the bad calls");
        var la = new float[5 * net.Classes];
        var lb = new float[5 * net.Classes];
        net.Infer(probe, la);
        twin.Infer(probe, lb);
        Bits.AssertIdentical(lb, la, $"{name}: inference after the bad calls");
        Assert.Null(net.FindNonFinite());
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-1, 1)]
    [InlineData((1 << 20) + 1, 1)]
    [InlineData(16, 0)]
    [InlineData(16, -2)]
    public void BadOptionsAreRefusedByTheConstructor(int maxBatch, int threads)
    {
        var options = new NetworkOptions { MaxBatch = maxBatch, Threads = threads };
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet(options));
        Assert.Contains(maxBatch < 1 || maxBatch > 1 << 20 ? "MaxBatch" : "Threads", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(options));
        Assert.Throws<ArgumentNullException>(() => new Mlp(null!));
    }

    [Fact]
    public void UnknownSimdPathIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(new NetworkOptions { Simd = (SimdPath)3, Threads = 1 }));
    }

    [Fact]
    public void UnknownTensorNameListsTheNames()
    {
        using INetwork net = TestNets.Create("LeNet");
        var e = Assert.ThrowsAny<ArgumentException>(() => net.Tensor("no.such"));
        Assert.Contains("no.such", e.Message);
        foreach (TensorInfo t in net.Tensors) Assert.Contains(t.Name, e.Message);
        var g = Assert.ThrowsAny<ArgumentException>(() => net.Gradient("no.such"));
        Assert.Contains("conv1.weight", g.Message);
        // A state tensor has values but no gradient.
        Assert.ThrowsAny<ArgumentException>(() => net.Gradient("batchnorm1.moving_mean"));
        Assert.ThrowsAny<ArgumentNullException>(() => net.Tensor(null!));
    }
}
