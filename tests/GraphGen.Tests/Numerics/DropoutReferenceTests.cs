using System;
using System.Linq;
using GraphGen.Execution;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>The reference's Dropout: the identity in inference and at rate 0; in training each value times
/// 0 or 1/(1 − rate) (computed in float), kept where <see cref="Kernels.DropoutKeeps"/> says for the network's
/// seed, the layer's step counter, the layer's index, the sample and the flat feature; gradients routed
/// through the same mask. Finite differences on graphs with dropouts are in ReferenceGradientTests (DropoutBlock).</summary>
public class DropoutReferenceTests
{
    private static double[] Ramp(int count) => Enumerable.Range(0, count).Select(i => 0.5 + 0.25 * i).ToArray();

    [Fact]
    public void RateZeroIsTheIdentityInTrainingWithGradientOne()
    {
        double[] x = [-2, -0.5, 0.25, 1, 3];
        var b = new GraphBuilder(5);
        b.Dropout(0);
        Assert.Equal(x, new ReferenceNetwork(b.Build("Rate0", 1)).Forward(x, 1, training: true));
        Assert.Equal([1, 1, 1, 1, 1], ReferenceGradientTests.ActivationDerivative(b => b.Dropout(0), x));
    }

    [Fact]
    public void InferenceIsTheIdentity()
    {
        double[] x = Ramp(2 * 2 * 3 * 3);
        var b = new GraphBuilder(2, 3, 3);
        b.Dropout(0.9);
        var reference = new ReferenceNetwork(b.Build("Infer", 1));
        Assert.Equal(x, reference.Forward(x, 2, training: false));
    }

    [Fact]
    public void TrainingKeepsWhatDropoutKeepsSaysScaledInFloat()
    {
        // input(2×2×2) → relu1 (the identity on these positive values) → dropout1, layer index 1, at step 3 and seed 11.
        const int seed = 11, step = 3, layer = 1, n = 3, features = 8;
        const float rate = 0.1f;
        var b = new GraphBuilder(2, 2, 2);
        b.ReLU(); b.Dropout(rate);
        using var net = b.Build("Mask", 1);
        net.Tensor("dropout1.step")[0] = step;
        var reference = new ReferenceNetwork(net, seed);
        double[] x = Ramp(n * features);
        double[] y = reference.Forward(x, n, training: true);

        // The scale is float's 1/(1 − 0.1), not double's: the generated kernels multiply by that number.
        double scale = 1f / (1f - rate);
        Assert.NotEqual(1 / (1 - 0.1), scale);
        bool Keeps(int s, long t, int l, int i, int f) => Kernels.DropoutKeeps(s, t, l, i, f, rate);
        var kept = new bool[n * features];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < features; f++)
            {
                int k = i * features + f;
                kept[k] = Keeps(seed, step, layer, i, f);
                Assert.Equal(kept[k] ? x[k] * scale : 0, y[k]);
            }
        // The mask drops some values and keeps others, and it would differ had the reference used the default
        // seed, step 0, the layer index 0, or the samples or features the other way round.
        Assert.Contains(true, kept);
        Assert.Contains(false, kept);
        int Differences(Func<int, int, bool> other) => Enumerable.Range(0, n * features).Count(k => other(k / features, k % features) != kept[k]);
        Assert.NotEqual(0, Differences((i, f) => Keeps(7, step, layer, i, f)));
        Assert.NotEqual(0, Differences((i, f) => Keeps(seed, 0, layer, i, f)));
        Assert.NotEqual(0, Differences((i, f) => Keeps(seed, step, 0, i, f)));
        Assert.NotEqual(0, Differences((i, f) => Keeps(seed, step, layer, f % n, i)));
    }

    [Fact]
    public void TheKeptFractionIsOneMinusTheRate()
    {
        var b = new GraphBuilder(4000);
        b.Dropout(0.3);
        double[] x = Enumerable.Repeat(1.0, 3 * 4000).ToArray();
        double[] y = new ReferenceNetwork(b.Build("Fraction", 1)).Forward(x, 3, training: true);
        double kept = y.Count(v => v != 0) / (double)y.Length;
        Assert.InRange(kept, 0.68, 0.72); // 12000 draws: the standard deviation of the fraction is 0.004
        Assert.All(y.Where(v => v != 0), v => Assert.Equal((double)(1f / (1f - 0.3f)), v));
    }

    [Fact]
    public void TheGradientIsTheMask()
    {
        // ActivationDerivative's graph: input(8) → dense1 → dropout1 (layer index 1) → dense2, one sample, seed 7, step 0.
        double[] x = Ramp(8);
        double[] derivative = ReferenceGradientTests.ActivationDerivative(b => b.Dropout(0.5), x);
        double[] mask = Enumerable.Range(0, 8).Select(f => Kernels.DropoutKeeps(7, 0, 1, 0, f, 0.5f) ? 2.0 : 0).ToArray();
        Assert.Contains(0, mask);
        Assert.Contains(2, mask);
        for (int f = 0; f < 8; f++) Assert.Equal(mask[f], derivative[f], 12);
    }

    [Fact]
    public void TheDropoutBlockGraphDropsAndKeepsInBothLayers()
    {
        // So that its finite-difference check (ReferenceGradientTests) covers kept and dropped values.
        using var net = GraphNets.All["DropoutBlock"](7);
        var reference = new ReferenceNetwork(net);
        var (x, _) = TestNets.Batch(net, 5, seed: 11);
        reference.Forward(TestNets.ToDouble(x), 5, training: true);
        for (int li = 0; li < net.Layers.Count; li++)
        {
            if (net.Layers[li].Kind != LayerKind.Dropout) continue;
            double[] input = reference.LayerInput(li), output = reference.InputOf(net.Layers[li + 1].Name);
            Assert.Contains(output.Select((v, k) => v == 0 && input[k] != 0), dropped => dropped);
            Assert.Contains(output.Select((v, k) => v != 0), kept => kept);
        }
    }

    [Fact]
    public void RateOutsideZeroToOneIsRejectedNamingTheLayer()
    {
        foreach (double rate in new[] { -0.1, 1, 1.5, double.NaN, double.PositiveInfinity })
            foreach (bool training in new[] { true, false })
            {
                var b = new GraphBuilder(3);
                b.Tanh(); b.Dropout(rate);
                var e = Assert.Throws<ArgumentException>(() => new ReferenceNetwork(b.Build("Bad", 1)).Forward([1, -1, 0], 1, training));
                Assert.Equal($"layer dropout1 (Dropout) has rate {rate}, expected a value in [0, 1)", e.Message);
            }
    }

    [Fact]
    public void ADropoutWithoutItsStepCounterIsRejectedInTraining()
    {
        var dropout = new LayerInfo("dropout1", LayerKind.Dropout, [3], [3]) { Rate = 0.5 };
        var reference = new ReferenceNetwork(new HandNetwork("NoStep", [3], [dropout], []));
        Assert.Equal([1, -1, 0], reference.Forward([1, -1, 0], 1, training: false));
        var e = Assert.Throws<ArgumentException>(() => reference.Forward([1, -1, 0], 1, training: true));
        Assert.Equal("layer dropout1 (Dropout) needs a state tensor dropout1.step of one value", e.Message);
    }
}
