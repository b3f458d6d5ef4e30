using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Checkpoints;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>Every optimizer with every schedule: a run resumed from the checkpoint of epoch 1 (network and
/// optimizer state, loaded into fresh objects) ends bit for bit where the uninterrupted run does.</summary>
public class ResumeWithOptimizerTests
{
    public static TheoryData<string, string> Combinations()
    {
        var data = new TheoryData<string, string>();
        foreach (string o in new[] { "sgd", "nesterov", "adam", "adamw" })
            foreach (string s in new[] { "constant", "step", "cosine", "onecycle" })
                data.Add(o, s);
        return data;
    }

    private static TrainOptions Options(string optimizer, string schedule) => new()
    {
        Epochs = 3, BatchSize = 64, Seed = 31,
        LearningRate = optimizer.StartsWith("adam", StringComparison.Ordinal) ? 0.01f : 0.5f,
        Optimizer = optimizer switch
        {
            "sgd" => new Sgd(),
            "nesterov" => new Sgd { Momentum = 0.9f, Nesterov = true, WeightDecay = 1e-3f },
            "adam" => new Adam { WeightDecay = 1e-4f, MaxGradientNorm = 0.5 },
            _ => new AdamW { WeightDecay = 0.05f },
        },
        Schedule = schedule switch
        {
            "constant" => new ConstantSchedule { WarmupEpochs = 1.5 },
            "step" => new StepSchedule { StepEpochs = 1, Gamma = 0.5 },
            "cosine" => new CosineSchedule { WarmupEpochs = 0.5 },
            _ => new OneCycleSchedule(),
        },
        PreciseBatchNormBatches = schedule == "cosine" ? 2 : 0,
    };

    private static Dictionary<string, float[]> Everything(INetwork net)
    {
        var all = Bits.Snapshot(net);
        Optimizer o = Optimizer.Of(net)!;
        foreach (TensorInfo t in o.State) all[t.Name] = o.StateTensor(t.Name).ToArray();
        return all;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Resumed_run_is_bit_identical(string optimizer, string schedule)
    {
        using var dir = new ScratchDir();
        string path = dir.File("epoch1.safetensors");
        Dataset train = Bits.RandomImages(300, seed: 41);

        using var full = new LeNet(new NetworkOptions { Seed = 17, Threads = 2, MaxBatch = 64 });
        var trainer = new Trainer(full, train, null, Options(optimizer, schedule));
        trainer.RunEpoch(1);
        Checkpoint.Save(full, path, null, Optimizer.Of(full));
        var afterEpoch1 = Everything(full);
        var results = new[] { trainer.RunEpoch(2), trainer.RunEpoch(3) };
        var uninterrupted = Everything(full);
        Assert.Equal(15, Optimizer.Of(full)!.Steps);

        using var resumed = new LeNet(new NetworkOptions { Seed = 99, Threads = 1, MaxBatch = 64 });
        var again = new Trainer(resumed, train, null, Options(optimizer, schedule));
        Checkpoint.Load(resumed, path, Optimizer.Of(resumed));
        Bits.AssertIdentical(afterEpoch1, Everything(resumed), "the loaded checkpoint");
        var resumedResults = new[] { again.RunEpoch(2), again.RunEpoch(3) };

        Bits.AssertIdentical(uninterrupted, Everything(resumed), $"{optimizer} + {schedule}: resumed vs uninterrupted");
        for (int i = 0; i < 2; i++)
        {
            Assert.True(Bits.SameBits(results[i].Loss, resumedResults[i].Loss));
            Assert.Equal(results[i].LearningRate, resumedResults[i].LearningRate);
        }
    }

    [Fact]
    public void Without_the_optimizer_state_the_resumed_run_differs()
    {
        // What the state tensors are for: momentum restarted from zero changes the next epoch.
        using var dir = new ScratchDir();
        string path = dir.File("weights-only.safetensors");
        Dataset train = Bits.RandomImages(300, seed: 41);
        using var full = new LeNet(new NetworkOptions { Seed = 17, Threads = 2, MaxBatch = 64 });
        var trainer = new Trainer(full, train, null, Options("nesterov", "step"));
        trainer.RunEpoch(1);
        Checkpoint.Save(full, path);
        trainer.RunEpoch(2);
        using var resumed = new LeNet(new NetworkOptions { Seed = 99, Threads = 2, MaxBatch = 64 });
        var again = new Trainer(resumed, train, null, Options("nesterov", "step"));
        Checkpoint.Load(resumed, path);
        again.RunEpoch(2);
        Assert.NotNull(Bits.FirstDifference(Bits.Snapshot(full), Bits.Snapshot(resumed)));
    }

    [Fact]
    public void Checkpoints_with_optimizer_state_load_for_inference_and_refuse_the_wrong_optimizer()
    {
        using var dir = new ScratchDir();
        string path = dir.File("adam.safetensors");
        string plain = dir.File("plain.safetensors");
        Dataset train = Bits.RandomImages(128, seed: 3);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        new Trainer(net, train, null, new TrainOptions { BatchSize = 64, LearningRate = 0.01f, Optimizer = new Adam() }).RunEpoch(1);
        Checkpoint.Save(net, path, null, Optimizer.Of(net));
        Checkpoint.Save(net, plain);

        // No optimizer: the state in the file is skipped, the network loads.
        using var inference = new LeNet(new NetworkOptions { Seed = 2, Threads = 1 });
        IReadOnlyDictionary<string, string> meta = Checkpoint.Load(inference, path);
        Assert.Equal("Adam", meta[Checkpoint.OptimizerKey]);
        Bits.AssertIdentical(Bits.Snapshot(net), Bits.Snapshot(inference), "network tensors");

        // The wrong kind, or no state at all: one error naming it, and nothing written.
        using var other = new LeNet(new NetworkOptions { Seed = 2, Threads = 1 });
        var before = Bits.Snapshot(other);
        var sgd = new Sgd { Momentum = 0.9f };
        sgd.Attach(other);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(other, path, sgd));
        Assert.Contains("holds Adam optimizer state, this run uses Sgd", e.Message);
        var adam = new Adam();
        adam.Attach(other);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(other, plain, adam));
        Assert.Contains("holds no optimizer state", e.Message);
        Bits.AssertIdentical(before, Bits.Snapshot(other), "after refused loads");
        Assert.Equal(0, adam.Steps);

        // An optimizer of another network is a usage error.
        Assert.Throws<ArgumentException>(() => Checkpoint.Save(inference, path, null, adam));
        Assert.Throws<ArgumentException>(() => Checkpoint.Load(inference, path, adam));
    }

    [Fact]
    public void A_fake_network_round_trips_its_optimizer_state()
    {
        using var dir = new ScratchDir();
        var net = FakeNetwork.LeNet().Fill(4);
        var adamw = new AdamW();
        adamw.Attach(net);
        var rng = new Random(5);
        foreach (TensorInfo t in adamw.State)
        {
            Span<float> v = adamw.StateTensor(t.Name);
            for (int i = 0; i < v.Length; i++) v[i] = (float)rng.NextDouble();
        }
        adamw.StateTensor(Optimizer.StepTensor)[0] = 1234;
        Checkpoint.Save(net, dir.File("a.safetensors"), null, adamw);

        var copy = FakeNetwork.LeNet();
        var loaded = new AdamW();
        loaded.Attach(copy);
        Checkpoint.Load(copy, dir.File("a.safetensors"), loaded);
        Assert.Equal(1234, loaded.Steps);
        Assert.Equal(net.Bits(), copy.Bits());
        foreach (TensorInfo t in adamw.State)
            Bits.AssertIdentical(adamw.StateTensor(t.Name), loaded.StateTensor(t.Name), t.Name);
        Assert.Equal(adamw.State.Select(t => t.Name), loaded.State.Select(t => t.Name));
    }
}
