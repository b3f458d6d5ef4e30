using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>
/// The generated kernels against the oracle, for every test network on every SIMD path (Vector512 is
/// forced, so it runs in software where the hardware lacks AVX-512): the loss, the correct count, every
/// parameter gradient, the moving statistics after the step, the updated parameters, and the
/// inference logits (which use the folded batch norm).
/// </summary>
public class GeneratedVsReferenceTests
{
    public static IEnumerable<object[]> Cases =>
        from name in TestNets.All.Keys
        from simd in TestNets.Paths
        from batch in new[] { 7, 21 }
        select new object[] { name, simd, batch };

    /// <summary>The ResNet sample's networks, on every path with a batch of 3.</summary>
    public static IEnumerable<object[]> SampleCases =>
        from name in TestNets.Samples.Keys
        from simd in TestNets.Paths
        select new object[] { name, simd, 3 };

    [Theory]
    [MemberData(nameof(Cases))]
    [MemberData(nameof(SampleCases))]
    public void TrainingStepMatchesReference(string name, SimdPath simd, int batch)
    {
        const int seed = 7;
        using var net = TestNets.Create(name, simd, seed: seed);
        var reference = new ReferenceNetwork(net, seed); // the seed draws the dropout masks
        var (x, labels) = TestNets.Batch(net, batch, seed: batch);
        var before = net.Tensors.ToDictionary(t => t.Name, t => net.Tensor(t.Name).ToArray());
        const float lr = 0.1f;

        var (refLoss, refCorrect, refGrads) = reference.LossAndGradients(TestNets.ToDouble(x), labels);
        var result = net.TrainStep(x, labels, lr);

        Assert.True(result.IsFinite);
        Assert.Equal(batch, result.Count);
        Assert.True(Math.Abs(result.LossSum - refLoss) <= 1e-4 * Math.Max(1, Math.Abs(refLoss)), $"loss {result.LossSum} vs reference {refLoss}");
        Assert.Equal(refCorrect, result.Correct);
        foreach (var t in net.Tensors)
        {
            if (t.Kind == TensorKind.Parameter)
            {
                // A bias followed by batch norm has a gradient that is zero up to rounding; the floor
                // makes that comparison absolute (1e-5) instead of relative.
                double err = TestNets.RelativeError(net.Gradient(t.Name), refGrads[t.Name], floor: 1e-2);
                Assert.True(err < 1e-3, $"{t.Name} gradient: relative error {err:G3}");
                // w ← w − lr·g, with the network's own gradient.
                var g = net.Gradient(t.Name);
                var now = net.Tensor(t.Name);
                for (int i = 0; i < now.Length; i++)
                    Assert.Equal(before[t.Name][i] - lr * g[i], now[i], 6);
            }
            else if (IsDropoutStep(net, t.Name))
                Assert.Equal(before[t.Name][0] + 1, net.Tensor(t.Name)[0]); // the step counter advances once per step
            else
            {
                double err = TestNets.RelativeError(net.Tensor(t.Name), reference.Tensors[t.Name]);
                Assert.True(err < 1e-5, $"{t.Name}: relative error {err:G3}");
            }
        }

        // Inference after the step, from the updated parameters and moving statistics.
        foreach (var t in net.Tensors) reference.Tensors[t.Name] = TestNets.ToDouble(net.Tensor(t.Name));
        var (x2, _) = TestNets.Batch(net, batch + 3, seed: 99);
        var logits = new float[(batch + 3) * net.Classes];
        net.Infer(x2, logits);
        double[] expected = reference.Forward(TestNets.ToDouble(x2), batch + 3, training: false);
        double inferErr = TestNets.RelativeError(logits, expected);
        Assert.True(inferErr < 1e-5, $"inference logits: relative error {inferErr:G3}");
    }

    /// <summary>Whether <paramref name="tensor"/> is a Dropout layer's step counter, "name.step".</summary>
    private static bool IsDropoutStep(INetwork net, string tensor) =>
        net.Layers.Any(l => l.Kind == LayerKind.Dropout && tensor == l.Name + ".step");
}
