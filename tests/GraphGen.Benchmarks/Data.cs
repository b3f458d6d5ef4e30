using System;
using GraphGen.Data;

namespace GraphGen.Benchmarks;

/// <summary>The real FashionMNIST when installed, else a deterministic random stand-in of the same shape
/// (the speed of the kernels does not depend on the pixel values).</summary>
internal static class BenchData
{
    public static Dataset Train(int count = 60000) => Load(count, FashionMnist.IsInstalled() ? FashionMnist.LoadTrain : null);
    public static Dataset Test(int count = 10000) => Load(count, FashionMnist.IsInstalled() ? FashionMnist.LoadTest : null);

    private static Dataset Load(int count, Func<string?, Dataset>? loader)
    {
        if (loader is not null) { var d = loader(null); return count >= d.Count ? d : d.Take(count); }
        var rng = new Random(1);
        var pixels = new byte[count * 784];
        rng.NextBytes(pixels);
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = rng.Next(10);
        return new Dataset(pixels, labels, 28, 28);
    }
}
