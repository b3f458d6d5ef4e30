using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>A step that goes non-finite stops training at once, names the first non-finite layer,
/// and leaves a checkpoint written before the run untouched.</summary>
public class DivergenceTests
{
    private static readonly string[] Prefixes = { "forward:", "backward:", "update:" };

    [Theory]
    [InlineData(1e30f, 1)]
    [InlineData(1e30f, 2)]
    [InlineData(float.MaxValue, 1)]
    public void AbsurdLearningRateThrowsDivergenceAtOnce(float lr, int threads)
    {
        using var dir = new ScratchDir();
        Dataset train = Bits.RandomImages(600, seed: 12);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = threads, MaxBatch = 64 });
        string before = dir.File("before.safetensors");
        Checkpoint.Save(net, before, new Dictionary<string, string> { ["graphgen.epoch"] = "0" });
        byte[] saved = File.ReadAllBytes(before);

        var trainer = new Trainer(net, train, null, new TrainOptions { Epochs = 3, BatchSize = 64, LearningRate = lr, Seed = 2 });
        var batches = new List<int>();
        trainer.Progress = p => batches.Add(p.Batch);
        var e = Assert.Throws<DivergenceException>(() => { for (int epoch = 1; epoch <= 3; epoch++) trainer.RunEpoch(epoch); });

        Assert.Equal(1, e.Epoch);
        Assert.InRange(e.Batch, 1, 3);
        Assert.NotNull(e.Where);
        Assert.True(Prefixes.Any(p => e.Where!.StartsWith(p, StringComparison.Ordinal)), $"Where = '{e.Where}' names no forward/backward/update phase");
        Assert.Contains(e.Where!, e.Message);
        Assert.Contains($"epoch 1, batch {e.Batch}", e.Message);
        // Training stopped at that batch: every earlier batch reported progress, no later one did.
        Assert.Equal(Enumerable.Range(1, e.Batch - 1), batches);
        // Where names the first non-finite layer of the failed step, and it stays so until the next step.
        Assert.Equal(e.Where, net.FindNonFinite());
        Assert.Equal(saved, File.ReadAllBytes(before));
        Assert.Equal(new[] { "before.safetensors" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void NonFiniteStepIsReportedByTheStepResult()
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        var (x, labels) = TestNets.Batch(net, 64, seed: 5);
        StepResult r = default;
        for (int i = 0; i < 4 && (i == 0 || r.IsFinite); i++) r = net.TrainStep(x, labels, 1e30f);
        Assert.False(r.IsFinite);
        Assert.NotNull(net.FindNonFinite());
    }

    [Theory]
    [InlineData("LeNet")]
    [InlineData("Mlp")]
    [InlineData("StridePad")]
    public void FindNonFiniteIsNullAfterFiniteSteps(string name)
    {
        using INetwork net = TestNets.Create(name, threads: 2);
        Assert.Null(net.FindNonFinite()); // before any step
        foreach (int batch in new[] { 37, 64, 5 })
        {
            var (x, labels) = TestNets.Batch(net, batch, seed: batch);
            StepResult r = net.TrainStep(x, labels, 0.1f);
            Assert.True(r.IsFinite);
            Assert.True(r.ParametersFinite);
            Assert.Equal(batch, r.Count);
            Assert.Null(net.FindNonFinite());
        }
    }
}
