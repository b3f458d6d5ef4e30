using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Tests.Nets;

namespace GraphGen.Tests.Numerics;

/// <summary>Creates the test networks by name, with parameters and moving statistics randomized so
/// that γ ≠ 1, β ≠ 0 and the moving statistics are not the initial ones (folding is exercised).</summary>
internal static class TestNets
{
    public static readonly Dictionary<string, Func<NetworkOptions, INetwork>> All = new()
    {
        ["LeNet"] = o => new LeNet(o),
        ["ConvBnPool"] = o => new ConvBnPool(o),
        ["StridePad"] = o => new StridePad(o),
        ["Pools"] = o => new Pools(o),
        ["StandaloneBatchNorm"] = o => new StandaloneBatchNorm(o),
        ["InputBatchNorm"] = o => new InputBatchNorm(o),
        ["Mlp"] = o => new Mlp(o),
        ["WideKernel"] = o => new WideKernel(o),
        ["HugeKernel"] = o => new HugeKernel(o),
        ["ResidualNet"] = o => new ResidualNet(o),
        ["ResidualEdges"] = o => new ResidualEdges(o),
        ["ConcatNet"] = o => new ConcatNet(o),
        ["ConcatEdges"] = o => new ConcatEdges(o),
        ["Activations"] = o => new Activations(o),
        ["SamePadding"] = o => new SamePadding(o),
        ["DropoutNet"] = o => new DropoutNet(o),
        ["DepthwiseNet"] = o => new DepthwiseNet(o),
        ["RectangularNet"] = o => new RectangularNet(o),
        ["GroupedNet"] = o => new GroupedNet(o),
        ["StridedStem"] = o => new StridedStem(o),
    };

    /// <summary>The ResNet sample's networks (samples/ResNet): far larger than the networks in
    /// <see cref="All"/>, so only <see cref="GeneratedVsReferenceTests"/> runs them, on small batches.</summary>
    public static readonly Dictionary<string, Func<NetworkOptions, INetwork>> Samples = new()
    {
        ["ResNet8"] = o => new GraphGen.Samples.ResNet8(o),
        ["ResNet10"] = o => new GraphGen.Samples.ResNet10(o),
    };

    public static readonly SimdPath[] Paths = { SimdPath.Scalar, SimdPath.Vector128, SimdPath.Vector256, SimdPath.Vector512 };

    public static INetwork Create(string name, SimdPath simd = SimdPath.Auto, int threads = 1, int seed = 7, int maxBatch = 64, bool randomize = true)
    {
        // Oversubscribe: the tests ask for thread counts above the processors to check that results do not depend on them.
        var net = (All.TryGetValue(name, out var create) ? create : Samples[name])(new NetworkOptions { Seed = seed, Simd = simd, Threads = threads, MaxBatch = maxBatch, Oversubscribe = true });
        if (randomize) Randomize(net, seed);
        return net;
    }

    public static void Randomize(INetwork net, int seed)
    {
        var rng = new Random(seed);
        foreach (var t in net.Tensors)
        {
            var v = net.Tensor(t.Name);
            string kind = t.Name[(t.Name.LastIndexOf('.') + 1)..];
            for (int i = 0; i < v.Length; i++)
            {
                double u = rng.NextDouble();
                v[i] = kind switch
                {
                    "gamma" => (float)(0.5 + u),
                    "beta" or "bias" or "moving_mean" => (float)(u - 0.5),
                    "moving_var" => (float)(0.5 + 1.5 * u),
                    _ => v[i],
                };
            }
        }
    }

    public static (float[] X, int[] Labels) Batch(INetwork net, int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * net.InputSize];
        for (int i = 0; i < x.Length; i++) x[i] = (float)rng.NextDouble();
        var labels = Enumerable.Range(0, n).Select(_ => rng.Next(net.Classes)).ToArray();
        return (x, labels);
    }

    public static double[] ToDouble(ReadOnlySpan<float> v)
    {
        var d = new double[v.Length];
        for (int i = 0; i < v.Length; i++) d[i] = v[i];
        return d;
    }

    /// <summary>‖a − b‖ / max(‖b‖, floor).</summary>
    public static double RelativeError(ReadOnlySpan<float> a, double[] b, double floor = 1e-6)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < b.Length; i++) { diff += (a[i] - b[i]) * (a[i] - b[i]); norm += b[i] * b[i]; }
        return Math.Sqrt(diff) / Math.Max(Math.Sqrt(norm), floor);
    }
}
