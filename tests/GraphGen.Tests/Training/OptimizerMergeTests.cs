using System;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>Where the optimizers meet the checkpoint-safety and float-data work: optimizer state is covered by
/// the checksum and the finiteness checks, and a float <see cref="Dataset"/> trains with an optimizer exactly as
/// the same floats through another <see cref="ILabelledSamples"/>.</summary>
public sealed class OptimizerMergeTests : IDisposable
{
    private readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly NetworkOptions Options = new() { Seed = 5, Threads = 1, MaxBatch = 32 };

    /// <summary>An MLP with Adam after two steps on separable data, so every moment is non-zero.</summary>
    private static (Mlp Net, Adam Adam) Trained()
    {
        var net = new Mlp(Options);
        var adam = new Adam();
        adam.Attach(net);
        FloatSamples data = FloatSamples.Separable(32, 20, 3, seed: 9);
        int[] all = Enumerable.Range(0, 32).ToArray();
        for (int i = 0; i < 2; i++) Assert.True(data.TrainStep(net, all, 0.01f).IsFinite);
        return (net, adam);
    }

    [Fact]
    public void Optimizer_state_is_in_the_checksum_and_an_edited_moment_is_refused()
    {
        string path = _dir.File("adam.safetensors");
        var (net, adam) = Trained();
        using (net) Checkpoint.Save(net, path, null, adam);
        SafetensorsFile file = Safetensors.Read(path);
        SafetensorsTensor moment = file.Tensors.First(t => t.Name.StartsWith(Optimizer.Prefix, StringComparison.Ordinal) && t.Data.Any(v => v != 0));
        Assert.Equal(file.Metadata[Checkpoint.ChecksumKey], Checkpoint.Checksum(file.Tensors));

        // One bit of one moment flipped, the checksum left as saved: refused, and nothing is written anywhere.
        var edited = file.Tensors.Select(t => t with { Data = (float[])t.Data.Clone() }).ToList();
        float[] v = edited.Single(t => t.Name == moment.Name).Data;
        int at = Array.FindIndex(v, x => x != 0);
        v[at] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(v[at]) ^ 1);
        Safetensors.Write(path, edited, file.Metadata.ToDictionary());

        using var fresh = new Mlp(Options);
        var freshAdam = new Adam();
        freshAdam.Attach(fresh);
        var before = Bits.Snapshot(fresh);
        float[] stateBefore = freshAdam.StateTensor(moment.Name).ToArray();
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(fresh, path, freshAdam));
        Assert.Contains("does not match graphgen.checksum", e.Message);
        Bits.AssertIdentical(before, Bits.Snapshot(fresh), "a refused load changed the network");
        Assert.True(stateBefore.AsSpan().SequenceEqual(freshAdam.StateTensor(moment.Name)), "a refused load changed the optimizer state");

        // Without the optimizer the file is still damaged: the checksum covers every tensor in it.
        Assert.Contains("does not match graphgen.checksum", Assert.Throws<CheckpointException>(() => Checkpoint.Load(fresh, path)).Message);
    }

    [Fact]
    public void A_sound_file_restores_network_and_optimizer_state_bit_for_bit()
    {
        string path = _dir.File("adam.safetensors");
        var (net, adam) = Trained();
        using (net)
        {
            Checkpoint.Save(net, path, null, adam);
            using var fresh = new Mlp(Options);
            var freshAdam = new Adam();
            freshAdam.Attach(fresh);
            Checkpoint.Load(fresh, path, freshAdam);
            Bits.AssertIdentical(Bits.Snapshot(net), Bits.Snapshot(fresh), "the loaded network differs");
            foreach (TensorInfo t in adam.State)
                Assert.True(adam.StateTensor(t.Name).SequenceEqual(freshAdam.StateTensor(t.Name)), $"{t.Name} differs");
        }
    }

    [Fact]
    public void Save_refuses_a_non_finite_moment_and_writes_nothing()
    {
        var (net, adam) = Trained();
        using (net)
        {
            TensorInfo moment = adam.State.First(t => t.Name.EndsWith("exp_avg_sq", StringComparison.Ordinal));
            adam.StateTensor(moment.Name)[1] = float.PositiveInfinity;
            string path = _dir.File("diverged.safetensors");
            var e = Assert.Throws<InvalidOperationException>(() => Checkpoint.Save(net, path, null, adam));
            Assert.Contains($"tensor '{moment.Name}' holds Infinity at index 1", e.Message);
            Assert.Empty(System.IO.Directory.GetFileSystemEntries(_dir.Path));
        }
    }

    [Fact]
    public void A_float_dataset_trains_with_an_optimizer_and_schedule_exactly_as_the_same_floats_elsewhere()
    {
        FloatSamples samples = FloatSamples.Separable(200, 20, 3, seed: 4);
        var dataset = new Dataset(samples.Values, samples.Labels.ToArray(), [20]);
        TrainOptions Options() => new()
        {
            Epochs = 3, BatchSize = 32, LearningRate = 0.02f, Seed = 6,
            Optimizer = new AdamW { WeightDecay = 0.01f }, Schedule = new CosineSchedule { WarmupEpochs = 0.5 },
            PreciseBatchNormBatches = 2,
        };
        using var a = new Mlp(OptimizerMergeTests.Options);
        using var b = new Mlp(OptimizerMergeTests.Options);
        FitResult viaDataset = new Trainer(a, dataset, dataset, Options()).Fit();
        FitResult viaSamples = new Trainer(b, samples, samples, Options()).Fit();
        Bits.AssertIdentical(Bits.Snapshot(b), Bits.Snapshot(a), "the float Dataset trained differently");
        Assert.Equal(viaSamples.Epochs.Select(r => r.Loss), viaDataset.Epochs.Select(r => r.Loss));
        Assert.Equal(viaSamples.Epochs.Select(r => r.TestAccuracy), viaDataset.Epochs.Select(r => r.TestAccuracy));
        Assert.True(viaDataset.Epochs[^1].Loss < viaDataset.Epochs[0].Loss);
        Assert.Equal(Trainer.Predict(b, samples), Trainer.Predict(a, dataset));
    }
}
