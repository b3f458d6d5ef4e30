using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>Checks the oracle itself: its analytic gradients against central finite differences of its
/// own loss, in double precision, for every test network (so for every layer kind) and for LeNet.</summary>
public class ReferenceGradientTests
{
    public static IEnumerable<object[]> Networks => TestNets.All.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Networks))]
    public void AnalyticGradientsMatchFiniteDifferences(string name)
    {
        using var net = TestNets.Create(name, randomize: true);
        var reference = new ReferenceNetwork(net);
        int n = name == "LeNet" ? 3 : 5;
        var (xf, labels) = TestNets.Batch(net, n, seed: 11);
        double[] x = TestNets.ToDouble(xf);
        var (_, _, grads) = reference.LossAndGradients(x, labels);
        double Loss() => ReferenceNetwork.SoftmaxCrossEntropy(reference.Forward(x, n, training: true), labels, net.Classes).LossSum / n;

        var rng = new Random(3);
        const double h = 1e-5;
        int checkedCount = 0;
        foreach (var t in net.Tensors.Where(t => t.Kind == TensorKind.Parameter))
        {
            double[] p = reference.Tensors[t.Name];
            double[] g = grads[t.Name];
            Assert.Equal(p.Length, g.Length);
            // Every element of small tensors, a random sample of large ones.
            var indices = p.Length <= 60 ? Enumerable.Range(0, p.Length) : Enumerable.Range(0, 40).Select(_ => rng.Next(p.Length));
            foreach (int i in indices)
            {
                double saved = p[i];
                p[i] = saved + h; double up = Loss();
                p[i] = saved - h; double down = Loss();
                p[i] = saved;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - g[i]) <= 1e-7 + 1e-5 * Math.Abs(fd),
                    $"{name} {t.Name}[{i}]: finite difference {fd:G10}, analytic {g[i]:G10}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 10);
    }
}
