using System;
using System.Collections.Generic;
using System.Globalization;
using GraphGen.Checkpoints;
using GraphGen.Data;

namespace GraphGen.Training;

/// <summary>The validation number that early stopping and the best checkpoint follow.</summary>
public enum Metric
{
    /// <summary>Accuracy on the validation set: higher is better.</summary>
    ValidationAccuracy,
    /// <summary>Mean cross-entropy on the validation set: lower is better.</summary>
    ValidationLoss,
}

/// <summary>How <see cref="Trainer.Fit(ILabelledSamples?, FitOptions?)"/> runs the epochs of <see cref="TrainOptions.Epochs"/>.</summary>
public sealed class FitOptions
{
    /// <summary>The first epoch to run (default 1); after loading the checkpoint of epoch e, e + 1 resumes the run.</summary>
    public int FirstEpoch { get; init; } = 1;

    /// <summary>What "better" means for <see cref="Patience"/>, <see cref="BestCheckpoint"/> and <see cref="RestoreBest"/> (needs a validation set).</summary>
    public Metric Monitor { get; init; } = Metric.ValidationAccuracy;

    /// <summary>Stop after this many epochs in a row without improvement of <see cref="Monitor"/> (0, the default: never).
    /// The count starts at <see cref="FirstEpoch"/>, or, for a resumed run given <see cref="PreviousBestEpoch"/>, after that epoch.</summary>
    public int Patience { get; init; }

    /// <summary>For a resumed run: the best epoch before <see cref="FirstEpoch"/> (what <see cref="FitResult.BestEpoch"/> was when
    /// the checkpoint was taken; keep it in the checkpoint's metadata), with <see cref="PreviousBestValue"/>. Then the run goes on
    /// as if it had not stopped: <see cref="Patience"/> counts the epochs since that one, and only a better epoch calls
    /// <see cref="Improved"/> or replaces <see cref="BestCheckpoint"/>. 0 (the default): no epoch before this run is known.</summary>
    public int PreviousBestEpoch { get; init; }

    /// <summary>The <see cref="Monitor"/> value of <see cref="PreviousBestEpoch"/> (finite when that is set).</summary>
    public double PreviousBestValue { get; init; } = double.NaN;

    /// <summary>An improvement must exceed this (default 0).</summary>
    public double MinDelta { get; init; }

    /// <summary>Save the network and its optimizer state here (atomically) after every epoch that improves
    /// <see cref="Monitor"/>, with the epoch and the metric in the metadata.</summary>
    public string? BestCheckpoint { get; init; }

    /// <summary>At the end, put back the network's tensors (parameters and moving statistics) of the best epoch.</summary>
    public bool RestoreBest { get; init; }

    /// <summary>Metadata added to <see cref="BestCheckpoint"/>.</summary>
    public IReadOnlyDictionary<string, string>? CheckpointMetadata { get; init; }

    /// <summary>Called after every epoch (after validation), in order; an exception from it stops the run.</summary>
    public Action<EpochResult>? EpochEnd { get; init; }

    /// <summary>Called after every epoch that improves <see cref="Monitor"/> (never without a validation set), after <see cref="BestCheckpoint"/> is
    /// written and before <see cref="EpochEnd"/>: to keep the best network in one's own way (e.g. with a fallback
    /// when the save fails). An exception from it stops the run.</summary>
    public Action<EpochResult>? Improved { get; init; }
}

/// <summary>What <see cref="Trainer.Fit(ILabelledSamples?, FitOptions?)"/> did.</summary>
/// <param name="Epochs">Every epoch run, in order.</param>
/// <param name="BestEpoch">The epoch with the best <see cref="FitOptions.Monitor"/> value, <see cref="FitOptions.PreviousBestEpoch"/>
/// included (0 without a validation set).</param>
/// <param name="BestValue">That value (NaN without a validation set).</param>
/// <param name="StoppedEarly">True when <see cref="FitOptions.Patience"/> ended the run before <see cref="TrainOptions.Epochs"/>
/// (with no epochs run when a resumed run's <see cref="FitOptions.PreviousBestEpoch"/> shows that it had stopped already).</param>
public sealed record FitResult(IReadOnlyList<EpochResult> Epochs, int BestEpoch, double BestValue, bool StoppedEarly);

public sealed partial class Trainer
{
    /// <summary>
    /// Runs epochs <see cref="FitOptions.FirstEpoch"/> .. <see cref="TrainOptions.Epochs"/> with
    /// <see cref="RunEpoch"/>, measures each on <paramref name="validation"/> (a split the caller keeps
    /// out of the training set; a <see cref="Dataset"/> goes in as <see cref="DatasetSamples"/>), calls <see cref="FitOptions.EpochEnd"/>, keeps the best checkpoint and
    /// stops early when the monitored metric stops improving. A divergence throws
    /// <see cref="DivergenceException"/> as in <see cref="RunEpoch"/>; the best checkpoint written so far stays.
    /// </summary>
    /// <exception cref="ArgumentException">Early stopping or a best checkpoint is asked for without a validation set, or a setting is out of range.</exception>
    public FitResult Fit(ILabelledSamples? validation = null, FitOptions? options = null)
    {
        options ??= new FitOptions();
        if (options.FirstEpoch < 1) throw new ArgumentOutOfRangeException(nameof(options), options.FirstEpoch, "the first epoch must be at least 1");
        if (options.Patience < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Patience, "the patience must not be negative");
        if (!(options.MinDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.MinDelta, "the minimum improvement must not be negative");
        bool monitored = options.Patience > 0 || options.BestCheckpoint is not null || options.RestoreBest;
        if (monitored && validation is null)
            throw new ArgumentException("early stopping, the best checkpoint and restoring the best epoch follow a validation metric: pass a validation set", nameof(validation));
        if (options.PreviousBestEpoch != 0)
        {
            if (options.PreviousBestEpoch < 0 || options.PreviousBestEpoch >= options.FirstEpoch)
                throw new ArgumentOutOfRangeException(nameof(options), options.PreviousBestEpoch, $"the previous best epoch must be before the first epoch ({options.FirstEpoch})");
            if (!double.IsFinite(options.PreviousBestValue))
                throw new ArgumentOutOfRangeException(nameof(options), options.PreviousBestValue, "the previous best epoch needs its finite monitored value");
            if (validation is null)
                throw new ArgumentException("a previous best epoch is a validation result: pass the validation set", nameof(validation));
            if (options.RestoreBest)
                throw new ArgumentException($"RestoreBest restores the best epoch from memory, and epoch {options.PreviousBestEpoch} was before this run: load its checkpoint instead", nameof(options));
        }
        if (validation is not null && validation.SampleSize != _net.InputSize)
            throw new ArgumentException($"{_net.Name} takes {_net.InputSize} values per sample, the validation set has {validation.SampleSize}", nameof(validation));

        var epochs = new List<EpochResult>();
        bool lowerIsBetter = options.Monitor == Metric.ValidationLoss;
        double best = options.PreviousBestEpoch > 0 ? options.PreviousBestValue : double.NaN;
        int bestEpoch = options.PreviousBestEpoch, stale = bestEpoch > 0 ? options.FirstEpoch - 1 - bestEpoch : 0;
        float[][]? bestTensors = null;
        // A resumed run whose patience had already run out stopped there: it goes no further.
        bool stopped = options.Patience > 0 && bestEpoch > 0 && stale >= options.Patience && options.FirstEpoch <= _options.Epochs;
        for (int epoch = options.FirstEpoch; !stopped && epoch <= _options.Epochs; epoch++)
        {
            EpochResult r = RunEpoch(epoch);
            if (validation is not null)
            {
                var (loss, accuracy) = Measure(_net, validation);
                r = r with { ValidationLoss = loss, ValidationAccuracy = accuracy };
            }
            epochs.Add(r);
            if (validation is not null)
            {
                double value = lowerIsBetter ? r.ValidationLoss : r.ValidationAccuracy;
                bool better = double.IsFinite(value) && (bestEpoch == 0
                    || (lowerIsBetter ? value < best - options.MinDelta : value > best + options.MinDelta));
                if (better)
                {
                    best = value; bestEpoch = epoch; stale = 0;
                    if (options.BestCheckpoint is not null) SaveBest(options, epoch, value);
                    if (options.RestoreBest) bestTensors = Copy(bestTensors);
                    options.Improved?.Invoke(r);
                }
                else stale++;
            }
            options.EpochEnd?.Invoke(r);
            if (options.Patience > 0 && stale >= options.Patience && epoch < _options.Epochs) { stopped = true; break; }
        }
        if (options.RestoreBest && bestTensors is not null)
        {
            for (int i = 0; i < _net.Tensors.Count; i++) bestTensors[i].CopyTo(_net.Tensor(_net.Tensors[i].Name));
        }
        return new FitResult(epochs, bestEpoch, best, stopped);
    }

    private void SaveBest(FitOptions options, int epoch, double value)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.CheckpointMetadata is not null)
            foreach (var (key, v) in options.CheckpointMetadata) metadata[key] = v;
        metadata["graphgen.epoch"] = epoch.ToString(CultureInfo.InvariantCulture);
        metadata["graphgen.monitor"] = options.Monitor.ToString();
        metadata["graphgen.monitor_value"] = value.ToString("R", CultureInfo.InvariantCulture);
        Checkpoint.Save(_net, options.BestCheckpoint!, metadata, Optimizer.Of(_net));
    }

    private float[][] Copy(float[][]? into)
    {
        into ??= new float[_net.Tensors.Count][];
        for (int i = 0; i < into.Length; i++)
        {
            ReadOnlySpan<float> values = _net.Tensor(_net.Tensors[i].Name);
            into[i] ??= new float[values.Length];
            values.CopyTo(into[i]);
        }
        return into;
    }
}
