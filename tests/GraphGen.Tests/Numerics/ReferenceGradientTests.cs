using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>Checks the oracle itself: its analytic gradients against central finite differences of its
/// own loss, in double precision, for every test network (so for every layer kind), for LeNet, and for
/// hand-built graphs (Add, GlobalAvgPool2D, identity, projection and nested residual blocks, Inception-style,
/// pass-through and flat Concat blocks, a Concat feeding a residual block, LeakyReLU and SiLU, Dropout).</summary>
public class ReferenceGradientTests
{
    public static IEnumerable<object[]> Networks => TestNets.All.Keys.Select(k => new object[] { k });

    public static IEnumerable<object[]> Graphs => GraphNets.All.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Networks))]
    public void AnalyticGradientsMatchFiniteDifferences(string name)
    {
        using var net = TestNets.Create(name, randomize: true);
        CheckGradients(net, name == "LeNet" ? 3 : 5);
    }

    [Theory]
    [MemberData(nameof(Graphs))]
    public void GraphGradientsMatchFiniteDifferences(string name)
    {
        using var net = GraphNets.All[name](7);
        CheckGradients(net, 5);
    }

    [Fact]
    public void GlobalAvgPoolIsTheMeanOfEachChannel()
    {
        var b = new GraphBuilder(2, 2, 3);
        b.GlobalAvgPool();
        var reference = new ReferenceNetwork(b.Build("Gap", 1));
        // Two samples, channel-major: sample 0 channel 0 = 1..6, channel 1 = −6..−1; sample 1 = 10·sample 0.
        double[] x = [1, 2, 3, 4, 5, 6, -6, -5, -4, -3, -2, -1, 10, 20, 30, 40, 50, 60, -60, -50, -40, -30, -20, -10];
        Assert.Equal([3.5, -3.5, 35, -35], reference.Forward(x, 2, training: false));
    }

    [Fact]
    public void AddSumsMainPathAndShortcut()
    {
        var b = new GraphBuilder(3);
        b.Add(b.ReLU(), LayerInfo.NetworkInput); // relu(x) + x
        var reference = new ReferenceNetwork(b.Build("Add", 1));
        Assert.Equal([-1, 4, -3, 0.5, 0, 6], reference.Forward([-1, 2, -3, 0.25, 0, 3], 2, training: false));
    }

    [Fact]
    public void ConcatJoinsChannelsSampleBySample()
    {
        var b = new GraphBuilder(2, 1, 2);
        b.Concat(b.ReLU(), LayerInfo.NetworkInput); // [relu(x), x]: 4×1×2
        var reference = new ReferenceNetwork(b.Build("Concat", 1));
        // Per sample: channel 0 = (x0, x1), channel 1 = (x2, x3).
        Assert.Equal([0, 2, 3, 0, -1, 2, 3, -4, 5, 0, 0, 8, 5, -6, -7, 8],
            reference.Forward([-1, 2, 3, -4, 5, -6, -7, 8], 2, training: false));
    }

    [Fact]
    public void ConcatOfFlatValuesJoinsFeatures()
    {
        var b = new GraphBuilder(2);
        b.Concat(LayerInfo.NetworkInput, b.Tanh(LayerInfo.NetworkInput), LayerInfo.NetworkInput);
        var reference = new ReferenceNetwork(b.Build("FlatConcat", 1));
        double t = Math.Tanh(1);
        Assert.Equal([1, 0, t, 0, 1, 0, 0, -2, 0, -Math.Tanh(2), 0, -2],
            reference.Forward([1, 0, 0, -2], 2, training: false));
    }

    [Fact]
    public void GroupedConvolutionReadsOnlyItsGroupsChannels()
    {
        // 4 input channels of 1x2, Groups = 2, 4 filters of 2 channels x 1x2: filter o reads channels
        // 2·(o / 2) and 2·(o / 2) + 1 only. Every weight is 1 except filter 1's, which are 10; biases 0.
        var b = new GraphBuilder(4, 1, 2);
        b.Conv(4, (1, 2), (1, 1), (0, 0), groups: 2);
        var reference = new ReferenceNetwork(b.Build("Grouped", 1));
        Array.Fill(reference.Tensors["conv1.weight"], 1.0);
        for (int i = 4; i < 8; i++) reference.Tensors["conv1.weight"][i] = 10;
        Array.Clear(reference.Tensors["conv1.bias"]);
        // x: channel c holds (c + 1, 2(c + 1)): group 0 sums 1+2+2+4 = 9, group 1 sums 3+6+4+8 = 21.
        Assert.Equal([9, 90, 21, 21], reference.Forward([1, 2, 2, 4, 3, 6, 4, 8], 1, training: false));
    }

    [Fact]
    public void RectangularKernelStrideAndPaddingFollowTheirOwnAxis()
    {
        // A 1x3 input, kernel 1x2 (weights 1, 10), stride 1x2, padding 1x1: the padded input is 3x5 with
        // x = (1, 2, 3) in row 1, columns 1..3; rows 0 and 2 see only zeros. Output 3x2.
        var b = new GraphBuilder(1, 1, 3);
        b.Conv(1, (1, 2), (1, 2), (1, 1));
        var reference = new ReferenceNetwork(b.Build("Rect", 1));
        reference.Tensors["conv1.weight"][0] = 1; reference.Tensors["conv1.weight"][1] = 10;
        reference.Tensors["conv1.bias"][0] = 0.5;
        // Row 1: columns (0, 1) → 0·1 + 1·10 = 10; columns (2, 3) → 2 + 30 = 32; plus the bias.
        Assert.Equal([0.5, 0.5, 10.5, 32.5, 0.5, 0.5], reference.Forward([1, 2, 3], 1, training: false));
    }

    [Fact]
    public void LeakyReLUScalesNegativeInputsBySlope()
    {
        double[] x = [-2, -0.5, 0, 0.5, 3];
        var b = new GraphBuilder(5);
        b.LeakyReLU(0.2);
        Assert.Equal([-0.4, -0.1, 0, 0.5, 3], new ReferenceNetwork(b.Build("Leaky", 1)).Forward(x, 1, training: false));
        b = new GraphBuilder(5);
        b.LeakyReLU(); // PyTorch's default slope, 0.01
        Assert.Equal([-0.02, -0.005, 0, 0.5, 3], new ReferenceNetwork(b.Build("Leaky", 1)).Forward(x, 1, training: false));
        // The derivative: 1 for x > 0, the slope otherwise (x = 0 included, as x > 0 is the test).
        AssertClose([0.2, 0.2, 0.2, 1, 1], ActivationDerivative(b => b.LeakyReLU(0.2), x));
    }

    [Fact]
    public void SiLUIsXTimesSigmoidOfX()
    {
        // σ(±ln 3) = 3/4 and 1/4, σ(0) = 1/2; far from 0, SiLU is 0 and x without overflow.
        double ln3 = Math.Log(3);
        var b = new GraphBuilder(5);
        b.SiLU();
        AssertClose([-ln3 / 4, 0, 3 * ln3 / 4, 0, 800],
            new ReferenceNetwork(b.Build("SiLU", 1)).Forward([-ln3, 0, ln3, -800, 800], 1, training: false));
        // σ(x)(1 + x(1 − σ(x))): at −ln 3, ¼(1 − ¾ ln 3); at 0, ½; at ln 3, ¾(1 + ¼ ln 3); at 2, by the
        // quotient rule on x/(1 + e^−x): (1 + e^−2 + 2e^−2) / (1 + e^−2)².
        double e = Math.Exp(-2);
        AssertClose([(1 - 0.75 * ln3) / 4, 0.5, 0.75 * (1 + ln3 / 4), (1 + 3 * e) / ((1 + e) * (1 + e))],
            ActivationDerivative(b => b.SiLU(), [-ln3, 0, ln3, 2]));
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-14 * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    [Fact]
    public void LeakyReLUSlopeOutsideZeroToOneIsRejectedNamingTheLayer()
    {
        foreach (double slope in new[] { -0.1, 1, 2, double.NaN, double.PositiveInfinity })
        {
            var b = new GraphBuilder(3);
            b.Tanh(); b.LeakyReLU(slope);
            var e = Assert.Throws<ArgumentException>(() => new ReferenceNetwork(b.Build("Bad", 1)).Forward([1, -1, 0], 1, false));
            Assert.Contains("leakyrelu1", e.Message);
            Assert.Contains($"slope {slope}", e.Message);
            Assert.Contains("[0, 1)", e.Message);
        }
    }

    /// <summary>The reference's backward of an activation f at the points <paramref name="x"/>: in
    /// x → dense1 (identity) → f → dense2, the gradient of dense1's bias is f′(x) times what f's output
    /// receives, Σ_c ∂L/∂logit_c · dense2.weight[c, j], with ∂L/∂logit = dense2.bias's gradient (one sample).</summary>
    internal static double[] ActivationDerivative(Action<GraphBuilder> activation, double[] x)
    {
        int m = x.Length;
        var b = new GraphBuilder(m);
        b.Dense(m); activation(b); b.Dense(3);
        var reference = new ReferenceNetwork(b.Build("Derivative", 5));
        double[] w1 = reference.Tensors["dense1.weight"], b1 = reference.Tensors["dense1.bias"];
        for (int i = 0; i < w1.Length; i++) w1[i] = i % (m + 1) == 0 ? 1 : 0;
        Array.Clear(b1);
        var (_, _, grads) = reference.LossAndGradients(x, [1]);
        double[] w2 = reference.Tensors["dense2.weight"], dLogits = grads["dense2.bias"];
        return Enumerable.Range(0, m).Select(j =>
        {
            double dOut = Enumerable.Range(0, 3).Sum(c => dLogits[c] * w2[c * m + j]);
            return grads["dense1.bias"][j] / dOut;
        }).ToArray();
    }

    [Fact]
    public void MalformedConcatsAreRejectedNamingTheLayerAndShapes()
    {
        void Rejects(string because, GraphBuilder b, params string[] expected)
        {
            using var net = b.Build("Bad", 1);
            var e = Assert.Throws<ArgumentException>(() => new ReferenceNetwork(net).Forward(new double[net.InputSize], 1, false));
            foreach (string part in expected.Append("concat1")) Assert.True(e.Message.Contains(part), $"{because}: '{e.Message}' lacks '{part}'");
        }
        var b = new GraphBuilder(3);
        b.Concat(b.ReLU());
        Rejects("concat of one", b, "reads 1", "at least 2");

        b = new GraphBuilder(1, 4, 4);
        b.Concat(b.Conv(2, 3), LayerInfo.NetworkInput);
        Rejects("heights and widths differ", b, "conv1 [2, 2, 2]", "input [1, 4, 4]");

        b = new GraphBuilder(1, 2, 2);
        b.Concat(LayerInfo.NetworkInput, b.Dense(3));
        Rejects("image and flat", b, "input [1, 2, 2]", "dense1 [3]");

        b = new GraphBuilder(3);
        b.Concat(b.ReLU(), LayerInfo.NetworkInput);
        using var net = b.Build("Bad", 1);
        var concat = net.Layers[1];
        void RejectsLayer(string because, LayerInfo bad, params string[] expected)
        {
            var e = Assert.Throws<ArgumentException>(() => new ReferenceNetwork(new HandNetwork("Bad", [3], [net.Layers[0], bad], [])).Forward(new double[3], 1, false));
            foreach (string part in expected.Append("concat1")) Assert.True(e.Message.Contains(part), $"{because}: '{e.Message}' lacks '{part}'");
        }
        RejectsLayer("output C is not the sum", concat with { OutputShape = [5] }, "declares output [5]", "[6]");
        RejectsLayer("first input is not the InputShape", concat with { InputShape = [6] }, "takes [6]", "reads [3]");
    }

    [Fact]
    public void MalformedGraphsAreRejectedNamingTheLayer()
    {
        var b = new GraphBuilder(3);
        b.ReLU(); b.Tanh();
        using var net = b.Build("Bad", 1);
        var layers = net.Layers.ToArray();

        void Rejects(string because, string[] expected, params LayerInfo[] bad)
        {
            var e = Assert.Throws<ArgumentException>(() => new ReferenceNetwork(new HandNetwork("Bad", [3], bad, [])).Forward(new double[3], 1, false));
            foreach (string part in expected) Assert.True(e.Message.Contains(part), $"{because}: '{e.Message}' lacks '{part}'");
        }
        Rejects("unknown input", ["tanh1", "nothing"], layers[0], layers[1] with { Inputs = ["nothing"] });
        Rejects("later layer", ["relu1", "tanh1"], layers[0] with { Inputs = ["tanh1"] }, layers[1]);
        Rejects("add of one", ["add1", "1", "2"], layers[0], new LayerInfo("add1", LayerKind.Add, [3], [3]) { Inputs = ["relu1"] });
        Rejects("relu of two", ["tanh1", "2", "1"], layers[0], layers[1] with { Inputs = ["relu1", "input"] });
        Rejects("duplicate name", ["relu1"], layers[0], layers[0]);
        Rejects("shape mismatch", ["add1", "[4]", "[3]"], layers[0], new LayerInfo("add1", LayerKind.Add, [4], [4]) { Inputs = ["relu1", "input"] });
    }

    /// <summary>Every parameter's analytic gradient (every element of small tensors, 40 random ones of
    /// large tensors) against (L(p + h) − L(p − h)) / 2h of the mean training-mode loss.</summary>
    private static void CheckGradients(INetwork net, int n)
    {
        var reference = new ReferenceNetwork(net);
        var (xf, labels) = TestNets.Batch(net, n, seed: 11);
        double[] x = TestNets.ToDouble(xf);
        var (_, _, grads) = reference.LossAndGradients(x, labels);
        // A finite difference across LeakyReLU's kink measures neither slope, so none may be near; and
        // both sides must be visited, or one slope goes unchecked.
        foreach (var l in net.Layers.Where(l => l.Kind == LayerKind.LeakyReLU))
        {
            double[] z = reference.InputOf(l.Name);
            Assert.True(z.All(v => Math.Abs(v) >= 1e-3), $"{net.Name} {l.Name}: an input is within 1e-3 of the kink: {z.Min(Math.Abs):G3}");
            Assert.True(z.Any(v => v < 0) && z.Any(v => v > 0), $"{net.Name} {l.Name}: the inputs do not take both signs");
        }
        double Loss() => ReferenceNetwork.SoftmaxCrossEntropy(reference.Forward(x, n, training: true), labels, net.Classes).LossSum / n;

        var rng = new Random(3);
        const double h = 1e-5;
        int checkedCount = 0;
        foreach (var t in net.Tensors.Where(t => t.Kind == TensorKind.Parameter))
        {
            double[] p = reference.Tensors[t.Name];
            double[] g = grads[t.Name];
            Assert.Equal(p.Length, g.Length);
            var indices = p.Length <= 60 ? Enumerable.Range(0, p.Length) : Enumerable.Range(0, 40).Select(_ => rng.Next(p.Length));
            foreach (int i in indices)
            {
                double saved = p[i];
                p[i] = saved + h; double up = Loss();
                p[i] = saved - h; double down = Loss();
                p[i] = saved;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - g[i]) <= 1e-7 + 1e-5 * Math.Abs(fd),
                    $"{net.Name} {t.Name}[{i}]: finite difference {fd:G10}, analytic {g[i]:G10}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 10);
    }
}
