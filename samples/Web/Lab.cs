using System;
using System.Diagnostics;
using System.IO;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Training;

namespace GraphGen.Samples.Web;

/// <summary>
/// What the page does with the network, without the page: load a checkpoint, classify images, train.
/// WebAssembly here runs one thread, so every network is created with <see cref="NetworkOptions.Threads"/> = 1;
/// <see cref="SimdPath.Auto"/> then picks Vector128, which the browser runs as WebAssembly SIMD.
/// </summary>
public static class Lab
{
    /// <summary>Images per training step in the page.</summary>
    public const int Batch = 32;

    /// <summary>A LeNet for the browser: one thread, the widest accelerated vectors, batches of <see cref="Batch"/>.</summary>
    public static LeNet Create(int seed = 0) => new(new NetworkOptions { Threads = 1, Seed = seed, MaxBatch = Batch });

    /// <summary>One line on every parameter's gradient, "name norm checksum magnitude" separated by spaces (round-trip
    /// floats): its L2 norm, Σ gᵢ·cᵢ with fixed weights cᵢ = (7919·i mod 13) − 6, and Σ |gᵢ|·6, the checksum's scale.
    /// The browser test compares the page's first training step with the native one through it: the gradients of one
    /// step from the same weights and batch, which a wrong kernel changes and the rounding of WebAssembly does not.</summary>
    public static string GradientDigest(INetwork net)
    {
        var parts = new System.Collections.Generic.List<string>();
        foreach (TensorInfo t in net.Tensors)
        {
            if (t.Kind != TensorKind.Parameter) continue;
            ReadOnlySpan<float> g = net.Gradient(t.Name);
            double squares = 0, checksum = 0, magnitude = 0;
            for (int i = 0; i < g.Length; i++)
            {
                squares += (double)g[i] * g[i];
                checksum += g[i] * (double)((7919L * i) % 13 - 6);
                magnitude += Math.Abs(g[i]) * 6.0;
            }
            parts.Add(FormattableString.Invariant($"{t.Name} {Math.Sqrt(squares):R} {checksum:R} {magnitude:R}"));
        }
        return string.Join(" ", parts);
    }

    /// <summary>Loads the safetensors checkpoint in <paramref name="bytes"/> into <paramref name="net"/> with
    /// <see cref="Checkpoint.Load(INetwork, Stream, string, GraphGen.Training.Optimizer?, bool)"/>, every check included.
    /// Throws <see cref="CheckpointException"/> naming the problem; the network is then unchanged.</summary>
    public static void LoadCheckpoint(INetwork net, byte[] bytes, string name)
    {
        using var stream = new MemoryStream(bytes, writable: false);
        Checkpoint.Load(net, stream, name);
    }

    /// <summary>A data set from the bytes of a gzip IDX image file and its label file (see <see cref="Idx"/>).</summary>
    public static Dataset LoadIdx(byte[] images, byte[] labels, string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), name);
        Directory.CreateDirectory(dir);
        string imagePath = Path.Combine(dir, "images.gz"), labelPath = Path.Combine(dir, "labels.gz");
        File.WriteAllBytes(imagePath, images);
        File.WriteAllBytes(labelPath, labels);
        try { return Idx.LoadDataset(imagePath, labelPath, classes: 10); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>The ten class probabilities of one 28x28 image (bytes, light object on a dark background).</summary>
    public static float[] Probabilities(INetwork net, ReadOnlySpan<byte> image) => Trainer.Predict(net, image);

    /// <summary>The predicted class of every image of <paramref name="set"/>, in one inference call, and its speed.</summary>
    public static (int[] Classes, double ImagesPerSecond) Classify(INetwork net, Dataset set)
    {
        var logits = new float[set.Count * net.Classes];
        long start = Stopwatch.GetTimestamp();
        net.Infer(set.Pixels, logits);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var classes = new int[set.Count];
        for (int i = 0; i < classes.Length; i++) classes[i] = ArgMax(logits.AsSpan(i * net.Classes, net.Classes));
        return (classes, set.Count / seconds);
    }

    /// <summary>The index of the largest value (the first, on a tie).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}

/// <summary>Training in the page, one step at a time so the page can draw between steps: batches of
/// <see cref="Lab.Batch"/> images drawn without replacement from a shuffled epoch of <paramref name="data"/>.</summary>
public sealed class StepTrainer(INetwork net, Dataset data, float learningRate, int seed)
{
    private readonly Random _random = new(seed);
    private readonly int[] _order = new int[data.Count];
    private int _next = data.Count;
    private readonly byte[] _pixels = new byte[Lab.Batch * data.SampleSize];
    private readonly int[] _labels = new int[Lab.Batch];

    /// <summary>Seconds spent inside <see cref="INetwork.TrainStep(ReadOnlySpan{byte}, ReadOnlySpan{int}, float)"/>.</summary>
    public double Seconds { get; private set; }

    /// <summary>Images trained on.</summary>
    public long Images { get; private set; }

    /// <summary>One training step; returns its mean loss.</summary>
    public StepResult Step()
    {
        if (_next + Lab.Batch > _order.Length)
        {
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            _random.Shuffle(_order);
            _next = 0;
        }
        data.Gather(_order.AsSpan(_next, Lab.Batch), _pixels, _labels);
        _next += Lab.Batch;
        long start = Stopwatch.GetTimestamp();
        StepResult result = net.TrainStep(_pixels, _labels, learningRate);
        Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        Images += Lab.Batch;
        return result;
    }
}
