using System;
using System.Collections.Generic;
using System.Globalization;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>Training resumed from a checkpoint taken at the end of an epoch continues bit for bit as
/// the uninterrupted run.</summary>
public class ResumeTests
{
    private static TrainOptions Options => new() { Epochs = 2, BatchSize = 64, LearningRate = 0.9f, Seed = 31 };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(1, 3)]
    public void ResumedRunIsBitIdenticalToUninterrupted(int threadsBefore, int threadsAfter)
    {
        using var dir = new ScratchDir();
        Dataset train = Bits.RandomImages(600, seed: 41);
        Dataset test = Bits.RandomImages(150, seed: 42);
        string path = dir.File("epoch1.safetensors");

        // The uninterrupted run, with a checkpoint after epoch 1.
        using var full = new LeNet(new NetworkOptions { Seed = 17, Threads = threadsBefore, MaxBatch = 64 });
        var trainer = new Trainer(full, train, test, Options);
        EpochResult first = trainer.RunEpoch(1);
        var afterEpoch1 = Bits.Snapshot(full);
        Checkpoint.Save(full, path, new Dictionary<string, string>
        {
            ["graphgen.epoch"] = "1",
            ["graphgen.seed"] = Options.Seed.ToString(CultureInfo.InvariantCulture),
        });
        EpochResult second = trainer.RunEpoch(2);
        var uninterrupted = Bits.Snapshot(full);
        Assert.True(double.IsFinite(first.Loss) && double.IsFinite(second.Loss));
        Assert.NotNull(Bits.FirstDifference(afterEpoch1, uninterrupted)); // epoch 2 did change something

        // A fresh network (another initialization seed: everything must come from the file) resumes at epoch 2.
        using var resumed = new LeNet(new NetworkOptions { Seed = 99, Threads = threadsAfter, MaxBatch = 64 });
        IReadOnlyDictionary<string, string> meta = Checkpoint.Load(resumed, path);
        Assert.Equal("1", meta["graphgen.epoch"]);
        Assert.Equal("31", meta["graphgen.seed"]);
        Assert.Equal(resumed.Name, meta[Checkpoint.NetworkKey]);
        Bits.AssertIdentical(afterEpoch1, Bits.Snapshot(resumed), "loaded checkpoint vs the network it was saved from");
        EpochResult resumedSecond = new Trainer(resumed, train, test, Options).RunEpoch(2);

        Bits.AssertIdentical(uninterrupted, Bits.Snapshot(resumed), $"after epoch 2: resumed ({threadsAfter} threads) vs uninterrupted ({threadsBefore} threads)");
        Assert.True(Bits.SameBits(second.Loss, resumedSecond.Loss), $"epoch 2 loss {resumedSecond.Loss:R} vs {second.Loss:R}");
        Assert.True(Bits.SameBits(second.TrainAccuracy, resumedSecond.TrainAccuracy));
        Assert.True(Bits.SameBits(second.TestAccuracy, resumedSecond.TestAccuracy));
    }

    [Fact]
    public void InferenceAfterLoadMatchesTheSavedNetwork()
    {
        // Loading must invalidate folded inference weights of a network that already ran inference.
        using var dir = new ScratchDir();
        Dataset train = Bits.RandomImages(200, seed: 5);
        using var a = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        new Trainer(a, train, null, new TrainOptions { BatchSize = 64, LearningRate = 0.5f, Seed = 1 }).RunEpoch(1);
        string path = dir.File("a.safetensors");
        Checkpoint.Save(a, path);
        using var b = new LeNet(new NetworkOptions { Seed = 2, Threads = 2, MaxBatch = 32 });
        var la = new float[50 * 10];
        var lb = new float[50 * 10];
        b.Infer(train.Pixels[..(50 * 784)], lb); // folds b's own initial weights
        Checkpoint.Load(b, path);
        a.Infer(train.Pixels[..(50 * 784)], la);
        b.Infer(train.Pixels[..(50 * 784)], lb);
        Bits.AssertIdentical(la, lb, "inference after load vs the saved network");
    }
}
