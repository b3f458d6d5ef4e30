using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Data;

public sealed class BatchLoaderTests
{
    private static Dataset Images(int count, int seed = 1)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * 2 * 4 * 4];
        rng.NextBytes(pixels);
        return new Dataset(pixels, Enumerable.Range(0, count).Select(i => i % 3).ToArray(), [2, 4, 4]);
    }

    private static List<(float[] Values, byte[] Pixels, int[] Labels)> Epoch(IBatchSource source, int epoch)
    {
        var batches = new List<(float[], byte[], int[])>();
        source.StartEpoch(epoch);
        while (source.TryNext(out Batch batch))
        {
            Assert.Equal(batches.Count, batch.Index);
            batches.Add((batch.IsBytes ? [] : batch.Values.ToArray(), batch.IsBytes ? batch.Pixels.ToArray() : [], batch.Labels.ToArray()));
        }
        Assert.False(source.TryNext(out _));
        return batches;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bytes_without_augmentation_are_the_Trainers_batches(bool prefetch)
    {
        var data = Images(23);
        using var loader = new BatchLoader(data, batchSize: 5, seed: 4, prefetch: prefetch);
        Assert.Equal(5, loader.BatchesPerEpoch);
        var batches = Epoch(loader, 3);
        var order = new int[23];
        Trainer.EpochOrder(order, 4, 3, shuffle: true);
        var expected = data.Subset(order);
        Assert.Equal(expected.Pixels.ToArray(), batches.SelectMany(b => b.Pixels));
        Assert.Equal(expected.Labels.ToArray(), batches.SelectMany(b => b.Labels));
        Assert.Equal(new[] { 5, 5, 5, 5, 3 }, batches.Select(b => b.Labels.Length));
    }

    [Fact]
    public void Augmented_batches_hold_each_sample_augmented_for_its_index_whatever_the_batch_size()
    {
        var data = Images(17);
        var augmentation = new Augmentation { CropPadding = 1, HorizontalFlip = true, Mean = [0.5f], Std = [0.25f] };
        var order = new int[17];
        Trainer.EpochOrder(order, 9, 2, shuffle: true);
        var expected = new float[17 * 32];
        for (int i = 0; i < 17; i++) augmentation.Apply(data, order[i], 9, 2, expected.AsSpan(i * 32, 32));

        foreach (int batchSize in new[] { 1, 4, 17, 100 })
            foreach (bool prefetch in new[] { true, false })
            {
                using var loader = new BatchLoader(data, batchSize, seed: 9, augmentation: augmentation, prefetch: prefetch);
                var batches = Epoch(loader, 2);
                Bits.AssertIdentical(expected, batches.SelectMany(b => b.Values).ToArray(), $"batch size {batchSize}, prefetch {prefetch}");
            }
    }

    [Fact]
    public void An_epoch_started_again_gives_the_same_batches_and_another_epoch_others()
    {
        var augmentation = new Augmentation { CropPadding = 2, HorizontalFlip = true };
        using var loader = new BatchLoader(Images(40), 8, seed: 1, augmentation: augmentation);
        var first = Epoch(loader, 1).SelectMany(b => b.Values).ToArray();
        loader.StartEpoch(2);
        loader.TryNext(out _); // abandon epoch 2 after one batch, with the next one being prepared
        var again = Epoch(loader, 1).SelectMany(b => b.Values).ToArray();
        Assert.Equal(first, again);
        Assert.NotEqual(first, Epoch(loader, 2).SelectMany(b => b.Values).ToArray());
    }

    [Fact]
    public void Float_data_and_no_shuffle()
    {
        var data = new Dataset([1f, 2, 3, 4, 5, 6], [0, 1, 2], [2]);
        using var loader = new BatchLoader(data, 2, shuffle: false);
        var batches = Epoch(loader, 1);
        Assert.Equal(new[] { 1f, 2, 3, 4, 5, 6 }, batches.SelectMany(b => b.Values));
        Assert.Equal(new[] { 0, 1, 2 }, batches.SelectMany(b => b.Labels));
    }

    [Fact]
    public void Bad_use()
    {
        var data = Images(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchLoader(data, 0));
        Assert.Throws<ArgumentException>(() => new BatchLoader(data.Take(0), 2));
        Assert.Throws<ArgumentException>(() => new BatchLoader(new Dataset([1f, 2], [0, 1], [1]), 2, augmentation: new Augmentation { HorizontalFlip = true }));
        using var loader = new BatchLoader(data, 2);
        Assert.Contains("StartEpoch", Assert.Throws<InvalidOperationException>(() => loader.TryNext(out _)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.StartEpoch(0));
        loader.StartEpoch(1);
        loader.TryNext(out Batch batch);
        Assert.Throws<InvalidOperationException>(() => { loader.TryNext(out Batch b); return b.Values.Length; });
    }

    [Fact]
    public void Training_on_the_loader_is_bit_identical_to_the_Trainer()
    {
        var rng = new Random(3);
        var pixels = new byte[300 * 784];
        rng.NextBytes(pixels);
        var data = new Dataset(pixels, Enumerable.Range(0, 300).Select(_ => rng.Next(10)).ToArray(), 28, 28);
        var options = new NetworkOptions { Seed = 1, MaxBatch = 64, Threads = 2 };
        using var a = new LeNet(options);
        using var b = new LeNet(options);
        var trainer = new Trainer(a, data, null, new TrainOptions { BatchSize = 64, Seed = 6, LearningRate = 0.5f });
        using var loader = new BatchLoader(data, 64, seed: 6);
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            trainer.RunEpoch(epoch);
            loader.StartEpoch(epoch);
            while (loader.TryNext(out Batch batch))
                Assert.True(b.TrainStep(batch.Pixels, batch.Labels, 0.5f).IsFinite);
        }
        Bits.AssertIdentical(Bits.Snapshot(a), Bits.Snapshot(b), "Trainer vs BatchLoader");
    }

    [Fact]
    public void Trainer_on_floats_is_bit_identical_to_Trainer_on_the_same_bytes()
    {
        var rng = new Random(5);
        var pixels = new byte[200 * 784];
        rng.NextBytes(pixels);
        var bytes = new Dataset(pixels, Enumerable.Range(0, 200).Select(_ => rng.Next(10)).ToArray(), 28, 28);
        var values = new float[pixels.Length];
        var labels = new int[200];
        bytes.Gather(Enumerable.Range(0, 200).ToArray(), values, labels);
        var floats = new Dataset(values, labels, [1, 28, 28]);
        var options = new NetworkOptions { Seed = 1, MaxBatch = 64, Threads = 2 };
        using var a = new LeNet(options);
        using var b = new LeNet(options);
        var train = new TrainOptions { BatchSize = 64, Seed = 2, LearningRate = 0.5f };
        var ra = new Trainer(a, bytes, bytes, train).RunEpoch(1);
        var rb = new Trainer(b, floats, floats, train).RunEpoch(1);
        Bits.AssertIdentical(Bits.Snapshot(a), Bits.Snapshot(b), "Trainer on bytes vs floats");
        Assert.True(Bits.SameBits(ra.Loss, rb.Loss));
        Assert.True(Bits.SameBits(ra.TestAccuracy, rb.TestAccuracy));
    }
}
