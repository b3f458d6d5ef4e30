using System;
using System.Collections.Generic;
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
    /// <summary>Base learning rate (default 1.0, as in the d2l notebook); <see cref="Schedule"/> varies it per step.</summary>
    public float LearningRate { get; init; } = 1.0f;
    /// <summary>The update: attached to the network by the trainer. Null (the default) keeps the optimizer
    /// already attached to the network, plain SGD if none is.</summary>
    public Optimizer? Optimizer { get; init; }
    /// <summary>The learning rate per step (default: constant, no warmup).</summary>
    public LearningRateSchedule Schedule { get; init; } = new ConstantSchedule();
    /// <summary>After each epoch, recompute the batch-norm statistics over this many training batches
    /// (<see cref="BatchNormCalibration"/>: precise BN); 0 (the default) keeps the moving averages.</summary>
    public int PreciseBatchNormBatches { get; init; }
    /// <summary>Seed of the per-epoch shuffles.</summary>
    public int Seed { get; init; }
    /// <summary>Shuffle the training set each epoch (default true).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Augments every training batch (random crop, flip, normalization), drawn from (<see cref="Seed"/>, epoch,
    /// sample index) only, so a resumed run stays bit-identical; null (the default): the samples as they are. The
    /// training set must be a <see cref="Dataset"/> (<see cref="DatasetSamples"/>); its batches are prepared by a
    /// <see cref="BatchLoader"/> one ahead while the step runs, and precise batch-norm statistics are taken on
    /// the epoch's augmented samples. With <see cref="Augmentation.Mean"/> and <see cref="Augmentation.Std"/> the
    /// network learns on normalized values: pass the test and validation sets through <see cref="Data.Augmentation.Normalize(Dataset)"/>.</summary>
    public Augmentation? Augmentation { get; init; }
}

/// <summary>One epoch's numbers. Loss and accuracy are over all samples of the epoch: the sum of the
/// per-batch sums divided by the sample count (the notebook overwrote them per batch instead).</summary>
public sealed record EpochResult(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, TimeSpan TrainTime, TimeSpan EvalTime, int Samples)
{
    /// <summary>Mean softmax cross-entropy on the test set in inference mode, after the epoch's training (NaN without a test set):
    /// the loss to set against <see cref="Loss"/>, which is the training samples' mean over the epoch's steps.</summary>
    public double TestLoss { get; init; } = double.NaN;
    /// <summary>Mean loss on the validation set in inference mode (NaN without one; set by <see cref="Trainer.Fit(ILabelledSamples?, FitOptions?)"/>).</summary>
    public double ValidationLoss { get; init; } = double.NaN;
    /// <summary>Accuracy on the validation set in inference mode (NaN without one).</summary>
    public double ValidationAccuracy { get; init; } = double.NaN;
    /// <summary>The learning rate of the epoch's last step.</summary>
    public float LearningRate { get; init; }
    /// <summary>Time spent recalibrating the batch-norm statistics (zero unless <see cref="TrainOptions.PreciseBatchNormBatches"/> is set).</summary>
    public TimeSpan CalibrationTime { get; init; }
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
/// The training loop: seeded shuffle per epoch, batches, one training step each with the optimizer and
/// the learning-rate schedule of the <see cref="TrainOptions"/>, honest epoch totals, optional precise
/// batch-norm statistics, test loss and accuracy in inference mode, and a stop at the first non-finite step.
/// Each epoch's shuffle and each step's learning rate depend only on (seed, epoch, step), and the
/// optimizer's state is saved with the network (<see cref="Checkpoints.Checkpoint.Save(INetwork, string, System.Collections.Generic.IReadOnlyDictionary{string, string}?, Optimizer?)"/>), so training
/// resumed from a checkpoint taken at the end of an epoch continues exactly as an uninterrupted run.
/// <see cref="Fit(ILabelledSamples?, FitOptions?)"/> runs the epochs with validation and early stopping.
/// </summary>
public sealed partial class Trainer
{
    private readonly INetwork _net;
    private readonly ILabelledSamples _train;
    private readonly ILabelledSamples? _test;
    private readonly TrainOptions _options;
    private readonly int[] _order;
    private readonly Dataset? _augmented; // the training set when the options augment it

    /// <summary>A trainer for <paramref name="net"/> on <paramref name="train"/>, evaluating on <paramref name="test"/> if given.</summary>
    public Trainer(INetwork net, Dataset train, Dataset? test, TrainOptions options)
        : this(net, new DatasetSamples(train ?? throw new ArgumentNullException(nameof(train))), test is null ? null : new DatasetSamples(test), options)
    {
    }

    /// <summary>A trainer for <paramref name="net"/> on any labelled samples, evaluating on <paramref name="test"/> if given.
    /// Attaches <see cref="TrainOptions.Optimizer"/> to the network if one is set.</summary>
    public Trainer(INetwork net, ILabelledSamples train, ILabelledSamples? test, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (train.SampleSize != net.InputSize)
            throw new ArgumentException($"{net.Name} takes {net.InputSize} values per sample, the data set has {train.SampleSize}", nameof(train));
        if (test is not null && test.SampleSize != net.InputSize)
            throw new ArgumentException($"{net.Name} takes {net.InputSize} values per sample, the test set has {test.SampleSize}", nameof(test));
        if (options.BatchSize < 1 || options.BatchSize > net.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, $"the batch size must be between 1 and the network's MaxBatch ({net.MaxBatch})");
        if (options.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(options), options.Epochs, "the number of epochs must be at least 1");
        if (options.PreciseBatchNormBatches < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.PreciseBatchNormBatches, "the number of precise batch-norm batches must not be negative");
        ArgumentNullException.ThrowIfNull(options.Schedule, "options.Schedule");
        if (train.Count == 0) throw new ArgumentException("the training set is empty", nameof(train));
        if (options.Augmentation is not null)
        {
            _augmented = (train as DatasetSamples)?.Data
                ?? throw new ArgumentException($"augmentation needs the training set as a Dataset (DatasetSamples), not a {train.GetType().Name}", nameof(train));
            options.Augmentation.Validate(_augmented.Shape);
        }
        _net = net; _train = train; _test = test; _options = options;
        _order = new int[train.Count];
        // Checks the schedule's settings now rather than in the middle of a run.
        options.Schedule.Rate(options.LearningRate, 0, BatchesPerEpoch, options.Epochs);
        options.Optimizer?.Attach(net);
    }

    /// <summary>The network being trained.</summary>
    public INetwork Network => _net;

    /// <summary>Steps per epoch (the last batch may be smaller).</summary>
    public int BatchesPerEpoch => (_train.Count + _options.BatchSize - 1) / _options.BatchSize;

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
        int batches = BatchesPerEpoch;
        float rate = 0;
        // With augmentation the loader batches the same order (Trainer.EpochOrder), augmented, one batch ahead.
        using BatchLoader? loader = _augmented is null ? null : new BatchLoader(_augmented, _options.BatchSize, _options.Seed, _options.Shuffle, _options.Augmentation);
        loader?.StartEpoch(epoch);
        for (int b = 0, start = 0; start < _train.Count; b++, start += _options.BatchSize)
        {
            int n = Math.Min(_options.BatchSize, _train.Count - start);
            rate = _options.Schedule.Rate(_options.LearningRate, (long)(epoch - 1) * batches + b, batches, _options.Epochs);
            StepResult r;
            if (loader is null) r = _train.TrainStep(_net, _order.AsSpan(start, n), rate);
            else
            {
                loader.TryNext(out Batch batch);
                r = _net.TrainStep(batch.Values, batch.Labels, rate);
            }
            if (!r.IsFinite) throw new DivergenceException(epoch, b + 1, r.LossSum, _net.FindNonFinite());
            lossSum += r.LossSum;
            correct += r.Correct;
            Progress?.Invoke(new BatchProgress(epoch, b + 1, batches, start + n, lossSum / (start + n), (double)correct / (start + n), clock.Elapsed));
        }
        TimeSpan trainTime = clock.Elapsed;
        clock.Restart();
        if (_options.PreciseBatchNormBatches > 0)
            BatchNormCalibration.Recalibrate(_net, _augmented is null ? _train : new AugmentedSamples(_augmented, _options.Augmentation!, _options.Seed, epoch),
                _order, _options.PreciseBatchNormBatches, _options.BatchSize);
        TimeSpan calibrationTime = clock.Elapsed;
        clock.Restart();
        var (testLoss, testAccuracy) = _test is null ? (double.NaN, double.NaN) : Measure(_net, _test);
        return new EpochResult(epoch, lossSum / _train.Count, (double)correct / _train.Count, testAccuracy, trainTime, clock.Elapsed, _train.Count)
        {
            TestLoss = testLoss,
            LearningRate = rate,
            CalibrationTime = calibrationTime,
        };
    }

    /// <summary>Accuracy of <paramref name="net"/> (inference mode) on <paramref name="data"/>.</summary>
    public static double Evaluate(INetwork net, Dataset data) => Evaluate(net, data, null);

    /// <summary>Mean softmax cross-entropy (in double) and accuracy of <paramref name="net"/> in inference
    /// mode on <paramref name="data"/>; NaN for both when it is empty.</summary>
    public static (double Loss, double Accuracy) Measure(INetwork net, ILabelledSamples data)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0) return (double.NaN, double.NaN);
        const int block = 4096;
        int classes = net.Classes;
        var logits = new float[Math.Min(block, data.Count) * classes];
        double loss = 0;
        long correct = 0;
        for (int start = 0; start < data.Count; start += block)
        {
            int n = Math.Min(block, data.Count - start);
            data.Infer(net, start, n, logits.AsSpan(0, n * classes));
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<float> z = logits.AsSpan(i * classes, classes);
                int label = data.Labels[start + i];
                if ((uint)label >= (uint)classes)
                    throw new ArgumentException($"label {label} of sample {start + i} is not a class of {net.Name} (0..{classes - 1})", nameof(data));
                int arg = ArgMax(z);
                if (arg == label) correct++;
                double sum = 0;
                foreach (float v in z) sum += Math.Exp(v - (double)z[arg]);
                loss += Math.Log(sum) + z[arg] - z[label];
            }
        }
        return (loss / data.Count, (double)correct / data.Count);
    }

    /// <summary>Class probabilities (softmax of the logits, inference mode), <see cref="INetwork.Classes"/> per
    /// sample of <paramref name="data"/>, sample after sample.</summary>
    public static float[] Predict(INetwork net, ILabelledSamples data)
    {
        ArgumentNullException.ThrowIfNull(net);
        ArgumentNullException.ThrowIfNull(data);
        var probabilities = new float[(long)data.Count * net.Classes];
        const int block = 4096;
        for (int start = 0; start < data.Count; start += block)
        {
            int n = Math.Min(block, data.Count - start);
            Span<float> out_ = probabilities.AsSpan(start * net.Classes, n * net.Classes);
            data.Infer(net, start, n, out_);
            Softmax(out_, net.Classes);
        }
        return probabilities;
    }

    /// <summary>As <see cref="Predict(INetwork, ILabelledSamples)"/> on a <see cref="Dataset"/> (bytes or floats).</summary>
    public static float[] Predict(INetwork net, Dataset data) => Predict(net, new DatasetSamples(data ?? throw new ArgumentNullException(nameof(data))));

    /// <summary>Class probabilities of the samples in <paramref name="inputs"/> (any number, <see cref="INetwork.InputSize"/> floats each).</summary>
    public static float[] Predict(INetwork net, ReadOnlySpan<float> inputs)
    {
        ArgumentNullException.ThrowIfNull(net);
        var probabilities = new float[inputs.Length / Math.Max(1, net.InputSize) * net.Classes];
        net.Infer(inputs, probabilities);
        Softmax(probabilities, net.Classes);
        return probabilities;
    }

    /// <summary>Class probabilities of the byte images in <paramref name="pixels"/> (each value divided by 255).</summary>
    public static float[] Predict(INetwork net, ReadOnlySpan<byte> pixels)
    {
        ArgumentNullException.ThrowIfNull(net);
        var probabilities = new float[pixels.Length / Math.Max(1, net.InputSize) * net.Classes];
        net.Infer(pixels, probabilities);
        Softmax(probabilities, net.Classes);
        return probabilities;
    }

    /// <summary>Replaces each group of <paramref name="classes"/> logits by its softmax (computed in double).</summary>
    public static void Softmax(Span<float> values, int classes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (values.Length % classes != 0) throw new ArgumentException($"{values.Length} values are not a whole number of groups of {classes}", nameof(values));
        for (int s = 0; s < values.Length; s += classes)
        {
            Span<float> z = values.Slice(s, classes);
            double max = z[ArgMax(z)], sum = 0;
            foreach (float v in z) sum += Math.Exp(v - max);
            for (int c = 0; c < classes; c++) z[c] = (float)(Math.Exp(z[c] - max) / sum);
        }
    }

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
