using System;
using System.Linq;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>EpochResult.TestLoss: the mean cross-entropy on the test set in inference mode, after the epoch's training.</summary>
public class TestLossTests
{
    [Fact]
    public void Test_loss_is_ln3_when_the_logits_are_zero()
    {
        // Zeroing every parameter after the last step makes every logit 0: the loss of each sample is ln(3) and the
        // prediction is class 0 (the first on ties), so the accuracy is the share of class 0.
        FloatSamples train = FloatSamples.Separable(100, 20, 3, seed: 1), test = FloatSamples.Separable(60, 20, 3, seed: 2);
        using var net = new Mlp(new NetworkOptions { Seed = 3, Threads = 1, MaxBatch = 32 });
        var trainer = new Trainer(net, train, test, new TrainOptions { Epochs = 1, BatchSize = 32, LearningRate = 0.1f });
        trainer.Progress = p =>
        {
            if (p.Batch < p.Batches) return;
            foreach (var t in net.Tensors.Where(t => t.Kind == TensorKind.Parameter)) net.Tensor(t.Name).Clear();
        };
        EpochResult r = trainer.RunEpoch(1);
        Assert.Equal(Math.Log(3), r.TestLoss, 12);
        Assert.Equal(test.Labels.ToArray().Count(l => l == 0) / 60.0, r.TestAccuracy);
        Assert.True(double.IsNaN(r.ValidationLoss));
    }

    [Fact]
    public void Test_loss_of_each_epoch_is_the_cross_entropy_of_the_networks_logits()
    {
        FloatSamples train = FloatSamples.Separable(256, 20, 3, seed: 4), test = FloatSamples.Separable(90, 20, 3, seed: 5);
        using var net = new Mlp(new NetworkOptions { Seed = 6, Threads = 2, MaxBatch = 64 });
        var trainer = new Trainer(net, train, test, new TrainOptions { Epochs = 3, BatchSize = 64, LearningRate = 0.5f, Seed = 7 });
        double first = double.NaN;
        FitResult result = trainer.Fit(null, new FitOptions
        {
            EpochEnd = r =>
            {
                var (loss, accuracy) = FitTests.ByHand(net, test);
                Assert.Equal(loss, r.TestLoss, 1e-9);
                Assert.Equal(accuracy, r.TestAccuracy);
                if (r.Epoch == 1) first = r.TestLoss;
            },
        });
        Assert.Equal(3, result.Epochs.Count);
        Assert.True(result.Epochs[^1].TestLoss < first, $"test loss {first} -> {result.Epochs[^1].TestLoss}: the rule is learnable");
    }

    [Fact]
    public void Without_a_test_set_the_test_loss_is_NaN()
    {
        FloatSamples train = FloatSamples.Separable(64, 20, 3, seed: 8);
        using var net = new Mlp(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 64 });
        EpochResult r = new Trainer(net, train, null, new TrainOptions { Epochs = 1, BatchSize = 64 }).RunEpoch(1);
        Assert.True(double.IsNaN(r.TestLoss) && double.IsNaN(r.TestAccuracy));
    }
}
