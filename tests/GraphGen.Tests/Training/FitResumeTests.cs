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

/// <summary>FitOptions.PreviousBestEpoch: a run resumed from a checkpoint keeps its best epoch, so early stopping
/// and the best checkpoint go on as in the run that was not interrupted.</summary>
public class FitResumeTests
{
    private static readonly Dataset Train = Bits.RandomImages(256, seed: 5), Validation = Bits.RandomImages(128, seed: 6);
    private static TrainOptions Options(int epochs = 30) => new() { Epochs = epochs, BatchSize = 64, LearningRate = 0.9f, Seed = 2 };

    [Fact]
    public void A_run_resumed_after_any_epoch_stops_where_the_uninterrupted_run_stops_with_the_same_best_epoch()
    {
        // Random labels: the training set is memorized and the validation loss soon stops improving.
        using var whole = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        var straightImproved = new List<int>();
        FitResult straight = new Trainer(whole, Train, null, Options())
            .Fit(new DatasetSamples(Validation), new FitOptions { Monitor = Metric.ValidationLoss, Patience = 2, Improved = r => straightImproved.Add(r.Epoch) });
        Assert.True(straight.StoppedEarly, "the validation loss kept improving for 30 epochs");
        int stop = straight.Epochs[^1].Epoch;
        var end = Bits.Snapshot(whole);

        using var dir = new ScratchDir();
        for (int k = 1; k < stop; k++)
        {
            // The first k epochs, then a checkpoint, as 'lenet train --save' leaves it.
            using var first = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
            FitResult before = new Trainer(first, Train, null, Options(k))
                .Fit(new DatasetSamples(Validation), new FitOptions { Monitor = Metric.ValidationLoss, Patience = 2 });
            Assert.False(before.StoppedEarly);
            string path = dir.File($"after{k}.safetensors");
            Checkpoint.Save(first, path);

            using var resumed = new LeNet(new NetworkOptions { Seed = 9, Threads = 1, MaxBatch = 64 });
            Checkpoint.Load(resumed, path);
            var improved = new List<int>();
            FitResult after = new Trainer(resumed, Train, null, Options()).Fit(new DatasetSamples(Validation), new FitOptions
            {
                Monitor = Metric.ValidationLoss, Patience = 2, FirstEpoch = k + 1,
                PreviousBestEpoch = before.BestEpoch, PreviousBestValue = before.BestValue,
                Improved = r => improved.Add(r.Epoch),
            });
            Assert.True(after.StoppedEarly, $"resumed after epoch {k}: did not stop");
            Assert.Equal(Enumerable.Range(k + 1, stop - k), after.Epochs.Select(e => e.Epoch));
            Assert.Equal(straight.BestEpoch, after.BestEpoch);
            Assert.True(Bits.SameBits(straight.BestValue, after.BestValue), $"resumed after epoch {k}: best {after.BestValue} vs {straight.BestValue}");
            // Improved fires only for epochs better than every earlier one, the earlier run's included.
            Assert.Equal(straightImproved.Where(e => e > k), improved);
            Bits.AssertIdentical(end, Bits.Snapshot(resumed), $"resumed after epoch {k} vs the uninterrupted run");
        }
    }

    [Fact]
    public void A_resumed_run_that_had_run_out_of_patience_runs_no_epoch_and_an_unbeaten_best_is_kept()
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        var trainer = new Trainer(net, Train, null, Options());
        var validation = new DatasetSamples(Validation);
        var before = Bits.Snapshot(net);
        // Best after epoch 1, checkpoint after epoch 3: epochs 2 and 3 were not better, patience 2 had run out.
        FitResult done = trainer.Fit(validation, new FitOptions { Patience = 2, FirstEpoch = 4, PreviousBestEpoch = 1, PreviousBestValue = 0.5 });
        Assert.True(done.StoppedEarly);
        Assert.Empty(done.Epochs);
        Assert.Equal((1, 0.5), (done.BestEpoch, done.BestValue));
        Bits.AssertIdentical(before, Bits.Snapshot(net), "a run that had stopped");

        // An accuracy of 1 cannot be beaten: with patience 4, epochs 4 and 5 run (2 and 3 counted already), none improves.
        using var dir = new ScratchDir();
        int improved = 0;
        FitResult more = trainer.Fit(validation, new FitOptions
        {
            Patience = 4, FirstEpoch = 4, PreviousBestEpoch = 1, PreviousBestValue = 1.0, BestCheckpoint = dir.File("best.safetensors"),
            Improved = _ => improved++,
        });
        Assert.Equal([4, 5], more.Epochs.Select(e => e.Epoch));
        Assert.True(more.StoppedEarly);
        Assert.Equal((1, 1.0), (more.BestEpoch, more.BestValue));
        Assert.Equal(0, improved);
        Assert.False(System.IO.File.Exists(dir.File("best.safetensors")));
    }

    [Fact]
    public void A_previous_best_is_checked()
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        var trainer = new Trainer(net, Train, null, Options());
        var validation = new DatasetSamples(Validation);
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(validation, new FitOptions { FirstEpoch = 3, PreviousBestEpoch = 3, PreviousBestValue = 0.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(validation, new FitOptions { FirstEpoch = 3, PreviousBestEpoch = -1, PreviousBestValue = 0.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(validation, new FitOptions { FirstEpoch = 3, PreviousBestEpoch = 2 }));
        Assert.Contains("validation", Assert.Throws<ArgumentException>(() => trainer.Fit(null, new FitOptions { FirstEpoch = 3, PreviousBestEpoch = 2, PreviousBestValue = 0.5 })).Message);
        Assert.Contains("epoch 2", Assert.Throws<ArgumentException>(() =>
            trainer.Fit(validation, new FitOptions { FirstEpoch = 3, PreviousBestEpoch = 2, PreviousBestValue = 0.5, RestoreBest = true })).Message);
    }
}
