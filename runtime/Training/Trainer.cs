using System;
using System.Diagnostics;
using GraphGen.Data;
using GraphGen.Execution;

namespace GraphGen.Training;

/// <summary>How to train.</summary>
public sealed class TrainOptions
{
    /// <summary>Epochs to run (default 10).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Samples per step (default 256); the last batch of an epoch is smaller.</summary>
    public int BatchSize { get; init; } = 256;
    /// <summary>SGD learning rate (default 1.0, as in the d2l notebook).</summary>
    public float LearningRate { get; init; } = 1.0f;
    /// <summary>Seed of the per-epoch shuffles.</summary>
    public int Seed { get; init; }
    /// <summary>Shuffle the training set each epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;
}

/// <summary>One epoch's numbers. Loss and accuracy are over all samples of the epoch: the sum of the
/// per-batch sums divided by the sample count (the notebook overwrote them per batch instead).</summary>
public sealed record EpochResult(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, TimeSpan TrainTime, TimeSpan EvalTime, int Samples)
{
    /// <summary>Training throughput.</summary>
    public double ImagesPerSecond => Samples / TrainTime.TotalSeconds;
}

/// <summary>Progress within an epoch, for progress bars.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, int Samples, double RunningLoss, double RunningAccuracy, TimeSpan Elapsed);

/// <summary>Thrown when a step produced a non-finite loss or parameter. Training stops at once.</summary>
public sealed class DivergenceException : Exception
{
    /// <summary>A divergence at <paramref name="epoch"/>/<paramref name="batch"/>; <paramref name="where"/> names the first non-finite layer.</summary>
    public DivergenceException(int epoch, int batch, double loss, string? where)
        : base($"training diverged in epoch {epoch}, batch {batch}: loss {loss}; first non-finite value: {where ?? "none found in the buffers (the update overflowed)"}")
    {
        Epoch = epoch; Batch = batch; Loss = loss; Where = where;
    }

    /// <summary>1-based epoch.</summary>
    public int Epoch { get; }
    /// <summary>1-based batch within the epoch.</summary>
    public int Batch { get; }
    /// <summary>The batch's summed loss.</summary>
    public double Loss { get; }
    /// <summary>The first layer (forward or backward) whose output went non-finite.</summary>
    public string? Where { get; }
}

/// <summary>
/// The training loop: seeded shuffle per epoch, batches, one <see cref="INetwork.TrainStep(ReadOnlySpan{byte}, ReadOnlySpan{int}, float)"/>
/// each, honest epoch totals, test accuracy in inference mode, and a stop at the first non-finite step.
/// Each epoch's shuffle depends only on (seed, epoch), so training resumed from a checkpoint taken at
/// the end of an epoch continues exactly as an uninterrupted run.
/// </summary>
public sealed class Trainer
{
    private readonly INetwork _net;
    private readonly Dataset _train;
    private readonly Dataset? _test;
    private readonly TrainOptions _options;
    private readonly int[] _order;
    private readonly byte[] _pixels;
    private readonly float[] _values;
    private readonly int[] _labels;

    /// <summary>A trainer for <paramref name="net"/> on <paramref name="train"/>, evaluating on <paramref name="test"/> if given.</summary>
    public Trainer(INetwork net, Dataset train, Dataset? test, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (train.ImageSize != net.InputSize)
            throw new ArgumentException($"{net.Name} takes {net.InputSize} values per sample, the data set has {train.Rows}x{train.Columns} = {train.ImageSize}", nameof(train));
        if (test is not null && test.ImageSize != net.InputSize)
            throw new ArgumentException($"{net.Name} takes {net.InputSize} values per sample, the test set has {test.ImageSize}", nameof(test));
        if (options.BatchSize < 1 || options.BatchSize > net.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"the batch size must be between 1 and the network's MaxBatch ({net.MaxBatch})");
        if (train.Count == 0) throw new ArgumentException("the training set is empty", nameof(train));
        _net = net; _train = train; _test = test; _options = options;
        _order = new int[train.Count];
        _pixels = train.IsBytes ? new byte[options.BatchSize * train.ImageSize] : [];
        _values = train.IsBytes ? [] : new float[options.BatchSize * train.ImageSize];
        _labels = new int[options.BatchSize];
    }

    /// <summary>Called after every batch.</summary>
    public Action<BatchProgress>? Progress { get; set; }

    /// <summary>The shuffled sample order of an epoch (identity without shuffling).</summary>
    public static void EpochOrder(Span<int> order, int seed, int epoch, bool shuffle)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (shuffle) new SplitMix64(((long)seed << 32) ^ (uint)epoch ^ 0x5DEECE66DL).Shuffle(order);
    }

    /// <summary>Trains one epoch (1-based) and evaluates.</summary>
    public EpochResult RunEpoch(int epoch)
    {
        EpochOrder(_order, _options.Seed, epoch, _options.Shuffle);
        var clock = Stopwatch.StartNew();
        double lossSum = 0;
        long correct = 0;
        int batches = (_train.Count + _options.BatchSize - 1) / _options.BatchSize;
        for (int b = 0, start = 0; start < _train.Count; b++, start += _options.BatchSize)
        {
            int n = Math.Min(_options.BatchSize, _train.Count - start);
            StepResult r;
            if (_train.IsBytes)
            {
                _train.Gather(_order.AsSpan(start, n), _pixels.AsSpan(0, n * _train.ImageSize), _labels.AsSpan(0, n));
                r = _net.TrainStep(_pixels.AsSpan(0, n * _train.ImageSize), _labels.AsSpan(0, n), _options.LearningRate);
            }
            else
            {
                _train.Gather(_order.AsSpan(start, n), _values.AsSpan(0, n * _train.ImageSize), _labels.AsSpan(0, n));
                r = _net.TrainStep(_values.AsSpan(0, n * _train.ImageSize), _labels.AsSpan(0, n), _options.LearningRate);
            }
            if (!r.IsFinite) throw new DivergenceException(epoch, b + 1, r.LossSum, _net.FindNonFinite());
            lossSum += r.LossSum;
            correct += r.Correct;
            Progress?.Invoke(new BatchProgress(epoch, b + 1, batches, start + n, lossSum / (start + n), (double)correct / (start + n), clock.Elapsed));
        }
        TimeSpan trainTime = clock.Elapsed;
        clock.Restart();
        double testAccuracy = _test is null ? double.NaN : Evaluate(_net, _test);
        return new EpochResult(epoch, lossSum / _train.Count, (double)correct / _train.Count, testAccuracy, trainTime, clock.Elapsed, _train.Count);
    }

    /// <summary>Accuracy of <paramref name="net"/> (inference mode) on <paramref name="data"/>.</summary>
    public static double Evaluate(INetwork net, Dataset data) => Evaluate(net, data, null);

    /// <summary>Accuracy, and the confusion matrix [label, prediction] if one is passed (classes × classes).
    /// Throws <see cref="ArgumentException"/>, before anything is counted, if the matrix is not
    /// classes × classes or a label is not a class of the network.</summary>
    public static double Evaluate(INetwork net, Dataset data, long[,]? confusion)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        int classes = net.Classes;
        if (confusion is not null && (confusion.GetLength(0) != classes || confusion.GetLength(1) != classes))
            throw new ArgumentException($"the confusion matrix is {confusion.GetLength(0)} x {confusion.GetLength(1)}; {net.Name} has {classes} classes, so it must be {classes} x {classes}", nameof(confusion));
        if (data.ImageSize != net.InputSize)
            throw new ArgumentException($"{net.Name} takes {net.InputSize} values per sample, the data set has {data.ImageSize}", nameof(data));
        ReadOnlySpan<int> labels = data.Labels;
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classes)
                throw new ArgumentException($"label {labels[i]} of sample {i} is not a class of {net.Name} (0..{classes - 1})", nameof(data));
        if (data.Count == 0) return double.NaN;
        const int block = 4096;
        var logits = new float[Math.Min(block, data.Count) * net.Classes];
        long correct = 0;
        for (int start = 0; start < data.Count; start += block)
        {
            int n = Math.Min(block, data.Count - start);
            Span<float> out_ = logits.AsSpan(0, n * net.Classes);
            if (data.IsBytes) net.Infer(data.Pixels.Slice(start * data.ImageSize, n * data.ImageSize), out_);
            else net.Infer(data.Values.Slice(start * data.ImageSize, n * data.ImageSize), out_);
            for (int i = 0; i < n; i++)
            {
                int label = data.Labels[start + i];
                int prediction = ArgMax(out_.Slice(i * net.Classes, net.Classes));
                if (prediction == label) correct++;
                if (confusion is not null) confusion[label, prediction]++;
            }
        }
        return (double)correct / data.Count;
    }

    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int arg = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[arg]) arg = i;
        return arg;
    }
}
