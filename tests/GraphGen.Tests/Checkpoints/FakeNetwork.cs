using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;

namespace GraphGen.Tests.Checkpoints;

/// <summary>An <see cref="INetwork"/> that only holds tensors in arrays: what checkpoints need, nothing else.</summary>
internal sealed class FakeNetwork : INetwork
{
    private readonly Dictionary<string, float[]> _values = new(StringComparer.Ordinal);

    public FakeNetwork(string name, params (string Name, int[] Shape)[] tensors)
    {
        Name = name;
        Tensors = tensors.Select(t => new TensorInfo(t.Name, t.Shape, t.Name.Contains("moving") ? TensorKind.State : TensorKind.Parameter)).ToArray();
        foreach (TensorInfo t in Tensors) _values.Add(t.Name, new float[t.Length]);
    }

    /// <summary>A LeNet-like layout; <paramref name="conv2Kernel"/> changes one shape.</summary>
    public static FakeNetwork LeNet(string name = "LeNet", int conv2Kernel = 5) => new(name,
        ("conv1.weight", [6, 1, 5, 5]), ("conv1.bias", [6]),
        ("batchnorm1.gamma", [6]), ("batchnorm1.beta", [6]),
        ("batchnorm1.moving_mean", [6]), ("batchnorm1.moving_var", [6]),
        ("conv2.weight", [16, 6, conv2Kernel, conv2Kernel]), ("conv2.bias", [16]),
        ("dense1.weight", [10, 16]), ("dense1.bias", [10]));

    /// <summary>When set, <see cref="Tensor"/> throws once it has been called this many times.</summary>
    public int? FailAfterCalls { get; set; }

    private int _calls;

    /// <summary>How often <see cref="Tensor"/> has been called: each call counts as a write for a real network.</summary>
    public int TensorCalls => _calls;

    /// <summary>Fills every tensor with arbitrary finite bit patterns, special values (signed zeros, subnormals,
    /// extremes) included; moving variances get no sign bit, as a loadable checkpoint needs.</summary>
    public FakeNetwork Fill(int seed)
    {
        var random = new Random(seed);
        float[] special = [-0f, float.Epsilon, -1e-40f, float.MinValue, float.MaxValue];
        foreach (var (name, v) in _values)
        {
            for (int i = 0; i < v.Length; i++)
            {
                float x;
                do x = random.Next(8) == 0 ? special[random.Next(special.Length)] : BitConverter.Int32BitsToSingle(random.Next() ^ (random.Next(2) << 31));
                while (!float.IsFinite(x));
                v[i] = name.EndsWith("moving_var", StringComparison.Ordinal) ? Math.Abs(x) : x;
            }
        }
        return this;
    }

    /// <summary>Every value's bits, for bitwise comparison.</summary>
    public Dictionary<string, int[]> Bits() =>
        _values.ToDictionary(kv => kv.Key, kv => kv.Value.Select(BitConverter.SingleToInt32Bits).ToArray());

    public string Name { get; }
    public IReadOnlyList<TensorInfo> Tensors { get; }

    public Span<float> Tensor(string name)
    {
        if (++_calls > FailAfterCalls) throw new IOException("simulated failure while reading the network");
        return _values[name];
    }

    public IReadOnlyList<int> InputShape => throw new NotSupportedException();
    public int InputSize => throw new NotSupportedException();
    public int Classes => throw new NotSupportedException();
    public int MaxBatch => throw new NotSupportedException();
    public int Threads => throw new NotSupportedException();
    public SimdPath Simd => throw new NotSupportedException();
    /// <summary>The layers <see cref="Checkpoint.Architecture"/> describes; none unless set.</summary>
    public IReadOnlyList<LayerInfo> Layers { get; init; } = [];
    public ReadOnlySpan<float> Gradient(string name) => throw new NotSupportedException();
    public StepResult TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, float learningRate) => throw new NotSupportedException();
    public StepResult TrainStep(ReadOnlySpan<byte> pixels, ReadOnlySpan<int> labels, float learningRate) => throw new NotSupportedException();
    public void Infer(ReadOnlySpan<float> inputs, Span<float> logits) => throw new NotSupportedException();
    public void Infer(ReadOnlySpan<byte> pixels, Span<float> logits) => throw new NotSupportedException();
    public string? FindNonFinite() => throw new NotSupportedException();
    public string Summary() => throw new NotSupportedException();
    public IReadOnlyList<PhaseTime> PhaseTimes => throw new NotSupportedException();
    public void ResetPhaseTimes() => throw new NotSupportedException();
    public void Dispose() { }
}

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("graphgen-ckpt-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Names of files in the directory, sorted.</summary>
    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order().ToArray()!;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}
