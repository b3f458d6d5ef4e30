using System;
using System.Collections.Generic;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>TrainOptions.Augmentation: the trainer steps on each sample as Augmentation.Apply makes it for (seed, epoch,
/// index), in the epoch's order; a resumed run stays bit-identical; precise BN sees the augmented samples.</summary>
public class AugmentedTrainingTests
{
    private const int Seed = 5, Batch = 32;
    private static readonly Dataset Data = Bits.RandomImages(100, 1);

    private static LeNet Net() => new(new NetworkOptions { Seed = 3, Threads = 1, MaxBatch = Batch });

    /// <summary>The reference: each epoch's order, every sample augmented by Augmentation.Apply, batch after batch.</summary>
    private static void TrainByHand(INetwork net, Augmentation augmentation, int epochs, float lr)
    {
        var order = new int[Data.Count];
        int size = Data.SampleSize;
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            Trainer.EpochOrder(order, Seed, epoch, shuffle: true);
            for (int start = 0; start < order.Length; start += Batch)
            {
                int n = Math.Min(Batch, order.Length - start);
                var values = new float[n * size];
                var labels = new int[n];
                for (int i = 0; i < n; i++)
                {
                    augmentation.Apply(Data, order[start + i], Seed, epoch, values.AsSpan(i * size, size));
                    labels[i] = Data.Labels[order[start + i]];
                }
                Assert.True(net.TrainStep(values, labels, lr).IsFinite);
            }
        }
    }

    private static TrainOptions Options(Augmentation? augmentation, int epochs = 2, int preciseBn = 0) => new()
    {
        Epochs = epochs, BatchSize = Batch, LearningRate = 0.5f, Seed = Seed, Augmentation = augmentation, PreciseBatchNormBatches = preciseBn,
    };

    [Fact]
    public void The_trainer_steps_on_the_augmented_samples_and_that_changes_the_weights()
    {
        var augmentation = new Augmentation { CropPadding = 2, HorizontalFlip = true };
        using var augmented = Net();
        new Trainer(augmented, Data, null, Options(augmentation)).Fit();
        using var byHand = Net();
        TrainByHand(byHand, augmentation, 2, 0.5f);
        Bits.AssertIdentical(Bits.Snapshot(byHand), Bits.Snapshot(augmented), "Trainer with Augmentation vs Augmentation.Apply by hand");

        using var plain = Net();
        new Trainer(plain, Data, null, Options(null)).Fit();
        Assert.NotNull(Bits.FirstDifference(Bits.Snapshot(plain), Bits.Snapshot(augmented)));
    }

    [Fact]
    public void An_augmented_run_resumed_from_a_checkpoint_is_bit_identical()
    {
        var augmentation = new Augmentation { CropPadding = 3, HorizontalFlip = true };
        using var straight = Net();
        new Trainer(straight, Data, null, Options(augmentation, epochs: 3)).Fit();

        using var dir = new ScratchDir();
        using (var first = Net())
        {
            new Trainer(first, Data, null, Options(augmentation, epochs: 3)).RunEpoch(1);
            Checkpoint.Save(first, dir.File("e1.safetensors"));
        }
        using var resumed = Net();
        Checkpoint.Load(resumed, dir.File("e1.safetensors"));
        new Trainer(resumed, Data, null, Options(augmentation, epochs: 3)).Fit(null, new FitOptions { FirstEpoch = 2 });
        Bits.AssertIdentical(Bits.Snapshot(straight), Bits.Snapshot(resumed), "augmented run resumed after epoch 1 vs uninterrupted");
    }

    /// <summary>With a normalization the raw samples are on another scale: statistics recomputed on them would be wrong.</summary>
    [Fact]
    public void Precise_batch_norm_is_computed_on_the_epochs_augmented_samples()
    {
        var augmentation = new Augmentation { CropPadding = 2, HorizontalFlip = true, Mean = [0.3f], Std = [0.2f] };
        using var trained = Net();
        new Trainer(trained, Data, null, Options(augmentation, epochs: 1, preciseBn: 2)).RunEpoch(1);

        using var byHand = Net();
        TrainByHand(byHand, augmentation, 1, 0.5f);
        var values = new float[Data.Count * Data.SampleSize];
        for (int i = 0; i < Data.Count; i++) augmentation.Apply(Data, i, Seed, 1, values.AsSpan(i * Data.SampleSize, Data.SampleSize));
        var epochOne = new Dataset(values, Data.Labels.ToArray(), [1, 28, 28]);
        var order = new int[Data.Count];
        Trainer.EpochOrder(order, Seed, 1, shuffle: true);
        BatchNormCalibration.Recalibrate(byHand, new DatasetSamples(epochOne), order, 2, Batch);
        Bits.AssertIdentical(Bits.Snapshot(byHand), Bits.Snapshot(trained), "precise BN on the augmented epoch");
    }

    [Fact]
    public void Augmentation_needs_a_dataset_of_images()
    {
        var crop = new Augmentation { CropPadding = 2 };
        using var mlp = new Mlp(new NetworkOptions { Threads = 1, MaxBatch = Batch });
        FloatSamples samples = FloatSamples.Separable(64, 20, 3, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => new Trainer(mlp, samples, null, Options(crop)));
        Assert.Contains("augmentation needs the training set as a Dataset", e.Message);

        var flat = new Dataset(samples.Values, [.. samples.Labels], [20]);
        e = Assert.Throws<ArgumentException>(() => new Trainer(mlp, flat, null, Options(crop)));
        Assert.Contains("need images shaped [C, H, W]", e.Message);
        // Normalization alone fits any shape.
        new Trainer(mlp, flat, null, Options(new Augmentation { Mean = [0.5f], Std = [2f] }, epochs: 1)).RunEpoch(1);
    }
}
