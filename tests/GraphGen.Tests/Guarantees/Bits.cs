using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Data;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>Bitwise snapshots and comparisons of a network's tensors, synthetic data sets and a temp directory.</summary>
internal static class Bits
{
    /// <summary>A copy of every tensor (parameters and moving statistics), in checkpoint order.</summary>
    public static Dictionary<string, float[]> Snapshot(INetwork net)
    {
        var map = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (TensorInfo t in net.Tensors) map[t.Name] = net.Tensor(t.Name).ToArray();
        return map;
    }

    /// <summary>The first tensor element that differs bitwise, or null if all are identical.</summary>
    public static string? FirstDifference(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual)
    {
        if (expected.Count != actual.Count) return $"{expected.Count} tensors vs {actual.Count}";
        foreach (var (name, a) in expected)
        {
            if (!actual.TryGetValue(name, out float[]? b)) return $"tensor {name} missing";
            if (a.Length != b.Length) return $"{name}: {a.Length} values vs {b.Length}";
            for (int i = 0; i < a.Length; i++)
                if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                    return $"{name}[{i}]: {a[i]:R} (0x{BitConverter.SingleToInt32Bits(a[i]):X8}) vs {b[i]:R} (0x{BitConverter.SingleToInt32Bits(b[i]):X8})";
        }
        return null;
    }

    public static void AssertIdentical(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual, string context)
    {
        string? diff = FirstDifference(expected, actual);
        Assert.True(diff is null, $"{context}: tensors differ at {diff}");
    }

    public static void AssertIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.True(expected.Length == actual.Length, $"{context}: {expected.Length} values vs {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{context}: value {i} is {actual[i]:R}, expected {expected[i]:R} (bitwise)");
    }

    public static bool SameBits(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    /// <summary><paramref name="count"/> random 28x28 byte images with random labels 0..9.</summary>
    public static Dataset RandomImages(int count, int seed, int rows = 28, int columns = 28)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * rows * columns];
        rng.NextBytes(pixels);
        int[] labels = Enumerable.Range(0, count).Select(_ => rng.Next(10)).ToArray();
        return new Dataset(pixels, labels, rows, columns);
    }
}

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
internal sealed class ScratchDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("graphgen-guarantees-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
