using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>Trainer.Fit: validation numbers, the per-epoch callback, early stopping, the best checkpoint,
/// and Predict's probabilities, each checked against what the test computes itself.</summary>
public class FitTests
{
    /// <summary>Mean cross-entropy and accuracy from the network's logits, computed here in double.</summary>
    internal static (double Loss, double Accuracy) ByHand(INetwork net, FloatSamples data)
    {
        var logits = new float[data.Count * net.Classes];
        net.Infer(data.Values, logits);
        double loss = 0;
        int correct = 0;
        for (int i = 0; i < data.Count; i++)
        {
            double[] z = logits.Skip(i * net.Classes).Take(net.Classes).Select(v => (double)v).ToArray();
            double logSum = Math.Log(z.Sum(v => Math.Exp(v)));
            loss += logSum - z[data.Labels[i]];
            if (Array.IndexOf(z, z.Max()) == data.Labels[i]) correct++;
        }
        return (loss / data.Count, (double)correct / data.Count);
    }

    [Fact]
    public void Float_samples_train_with_adamw_and_report_validation_numbers_each_epoch()
    {
        FloatSamples train = FloatSamples.Separable(512, 20, 3, seed: 1);
        FloatSamples validation = FloatSamples.Separable(200, 20, 3, seed: 2);
        using var net = new Mlp(new NetworkOptions { Seed = 3, Threads = 2, MaxBatch = 64 });
        var trainer = new Trainer(net, train, null, new TrainOptions
        {
            Epochs = 8, BatchSize = 64, LearningRate = 0.03f, Seed = 4,
            Optimizer = new AdamW(), Schedule = new CosineSchedule { WarmupEpochs = 1 },
        });
        var seen = new List<int>();
        FitResult result = trainer.Fit(validation, new FitOptions
        {
            EpochEnd = r =>
            {
                seen.Add(r.Epoch);
                var (loss, accuracy) = ByHand(net, validation);
                Assert.Equal(accuracy, r.ValidationAccuracy);
                Assert.Equal(loss, r.ValidationLoss, 1e-9);
                Assert.True(double.IsNaN(r.TestAccuracy));
            },
        });
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], seen);
        Assert.Equal(8, result.Epochs.Count);
        Assert.False(result.StoppedEarly);
        Assert.True(result.Epochs[^1].ValidationAccuracy > 0.85, $"validation accuracy {result.Epochs[^1].ValidationAccuracy}");
        Assert.True(result.Epochs[^1].Loss < result.Epochs[0].Loss);
        Assert.Equal(result.Epochs.Max(e => e.ValidationAccuracy), result.BestValue);
    }

    [Fact]
    public void Early_stopping_ends_the_run_after_patience_epochs_without_improvement_and_keeps_the_best()
    {
        using var dir = new ScratchDir();
        string best = dir.File("best.safetensors");
        // Random images with random labels: the training set is memorized, the validation loss soon rises.
        Dataset train = Bits.RandomImages(256, seed: 5);
        Dataset validation = Bits.RandomImages(128, seed: 6);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 2, MaxBatch = 64 });
        var trainer = new Trainer(net, train, null, new TrainOptions { Epochs = 30, BatchSize = 64, LearningRate = 0.9f, Seed = 2 });
        var snapshots = new Dictionary<int, Dictionary<string, float[]>>();
        FitResult result = trainer.Fit(new DatasetSamples(validation), new FitOptions
        {
            Monitor = Metric.ValidationLoss, Patience = 2, BestCheckpoint = best, RestoreBest = true,
            EpochEnd = r => snapshots[r.Epoch] = Bits.Snapshot(net),
        });

        // Replay the rule on the recorded losses.
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, stale = 0, stop = 0;
        foreach (EpochResult r in result.Epochs)
        {
            if (r.ValidationLoss < bestLoss) { bestLoss = r.ValidationLoss; bestEpoch = r.Epoch; stale = 0; }
            else if (++stale == 2) { stop = r.Epoch; break; }
        }
        Assert.True(result.StoppedEarly, "the validation loss kept improving for 30 epochs");
        Assert.Equal(stop, result.Epochs[^1].Epoch);
        Assert.Equal(bestEpoch, result.BestEpoch);
        Assert.Equal(bestLoss, result.BestValue);
        Assert.True(bestEpoch < stop);

        // The checkpoint and the restored network are the best epoch's, not the last one's.
        Bits.AssertIdentical(snapshots[bestEpoch], Bits.Snapshot(net), "restored network vs the best epoch");
        using var loaded = new LeNet(new NetworkOptions { Seed = 9, Threads = 1 });
        IReadOnlyDictionary<string, string> meta = Checkpoint.Load(loaded, best);
        Assert.Equal(bestEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture), meta["graphgen.epoch"]);
        Bits.AssertIdentical(snapshots[bestEpoch], Bits.Snapshot(loaded), "best checkpoint vs the best epoch");
        Assert.NotNull(Bits.FirstDifference(snapshots[bestEpoch], snapshots[stop]));
    }

    [Fact]
    public void Fit_resumes_at_first_epoch_and_refuses_monitoring_without_validation()
    {
        Dataset train = Bits.RandomImages(128, seed: 5);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        var trainer = new Trainer(net, train, null, new TrainOptions { Epochs = 3, BatchSize = 64, LearningRate = 0.5f });
        Assert.Contains("validation", Assert.Throws<ArgumentException>(() => trainer.Fit(null, new FitOptions { Patience = 2 })).Message);
        Assert.Contains("validation", Assert.Throws<ArgumentException>(() => trainer.Fit(null, new FitOptions { BestCheckpoint = "x" })).Message);
        FitResult r = trainer.Fit(null, new FitOptions { FirstEpoch = 3 });
        Assert.Equal([3], r.Epochs.Select(e => e.Epoch));
        Assert.Equal(0, r.BestEpoch);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(null, new FitOptions { FirstEpoch = 0 }));
    }

    [Fact]
    public void Predict_returns_the_softmax_of_the_logits()
    {
        Dataset data = Bits.RandomImages(70, seed: 8);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 2, MaxBatch = 64 });
        new Trainer(net, data, null, new TrainOptions { BatchSize = 64, LearningRate = 0.5f }).RunEpoch(1);
        float[] p = Trainer.Predict(net, data);
        Assert.Equal(70 * 10, p.Length);
        var logits = new float[70 * 10];
        net.Infer(data.Pixels, logits);
        long correct = 0;
        for (int i = 0; i < 70; i++)
        {
            double[] z = logits.Skip(i * 10).Take(10).Select(v => (double)v).ToArray();
            double sum = z.Sum(v => Math.Exp(v));
            for (int c = 0; c < 10; c++) Assert.True(Math.Abs(Math.Exp(z[c]) / sum - p[i * 10 + c]) < 1e-6, $"p[{i}, {c}]");
            Assert.Equal(1.0, p.Skip(i * 10).Take(10).Sum(v => (double)v), 5);
            if (Trainer.ArgMax(p.AsSpan(i * 10, 10)) == data.Labels[i]) correct++;
        }
        Assert.Equal(Trainer.Evaluate(net, data), correct / 70.0);
        Assert.Equal(p.AsSpan(3 * 10, 10).ToArray(), Trainer.Predict(net, data.Image(3)));
        float[] asFloats = data.Image(3).ToArray().Select(b => b / 255f).ToArray();
        Assert.True(Math.Abs(p[30] - Trainer.Predict(net, asFloats)[0]) < 1e-5);
    }
}
