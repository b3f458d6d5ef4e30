using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Data;

/// <summary>A user's own data end to end (issue 10, "Done when"): a CSV table, a folder of RGB PNGs and float arrays
/// each load, train through a BatchLoader, reach high accuracy on held-out samples, save, reload into a fresh network
/// and predict the same logits bit for bit.</summary>
public sealed class UserDataEndToEndTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static void Train(INetwork net, IBatchSource source, int epochs, float learningRate)
    {
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            source.StartEpoch(epoch);
            while (source.TryNext(out Batch batch))
            {
                StepResult r = batch.IsBytes ? net.TrainStep(batch.Pixels, batch.Labels, learningRate)
                                             : net.TrainStep(batch.Values, batch.Labels, learningRate);
                Assert.True(r.IsFinite, $"epoch {epoch}, batch {batch.Index} diverged");
            }
        }
    }

    // Saves, loads into a fresh network and checks that both predict the same logits, bit for bit.
    private void SaveReloadPredict(INetwork trained, INetwork fresh, Dataset data)
    {
        string path = _dir.File("model.safetensors");
        Checkpoint.Save(trained, path);
        Checkpoint.Load(fresh, path);
        var expected = new float[data.Count * trained.Classes];
        var actual = new float[expected.Length];
        if (data.IsBytes) { trained.Infer(data.Pixels, expected); fresh.Infer(data.Pixels, actual); }
        else { trained.Infer(data.Values, expected); fresh.Infer(data.Values, actual); }
        Bits.AssertIdentical(expected, actual, "logits after reload");
    }

    // Three Gaussian blobs, centres 3 apart along the first axes; noise 0.5.
    private static (float[] Values, int[] Labels) Blobs(int count, int features, int seed)
    {
        var rng = new Random(seed);
        var values = new float[count * features];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % 3;
            for (int f = 0; f < features; f++)
                values[i * features + f] = (f == labels[i] ? 3f : 0f) + (float)(0.5 * (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5));
        }
        return (values, labels);
    }

    [Fact]
    public void A_CSV_table_trains_saves_reloads_and_predicts()
    {
        var (values, labels) = Blobs(240, 20, 1);
        var csv = new StringBuilder(string.Join(",", Enumerable.Range(0, 20).Select(f => $"x{f}")) + ",species\n");
        string[] names = ["setosa", "versicolor", "virginica"];
        for (int i = 0; i < 240; i++)
            csv.Append(string.Join(",", values.Skip(i * 20).Take(20).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))).Append(',').Append(names[labels[i]]).Append('\n');
        string path = _dir.WriteBytes("iris-like.csv", Encoding.UTF8.GetBytes(csv.ToString()));

        Dataset table = Csv.Load(path, new CsvOptions { HasHeader = true, LabelColumn = -1, TextLabels = true });
        Assert.Equal(names, table.ClassNames);
        Assert.Equal(values, table.Values.ToArray()); // "R" round-trips every float
        var (train, validation) = table.Split(0.25, seed: 2, stratify: true);

        using var net = new Mlp(new NetworkOptions { Seed = 1, MaxBatch = 32, Threads = 1 });
        using var loader = new BatchLoader(train, 32, seed: 3);
        Train(net, loader, 15, 0.5f);
        Assert.True(Trainer.Evaluate(net, validation) >= 0.95, $"validation accuracy {Trainer.Evaluate(net, validation)}");
        using var fresh = new Mlp(new NetworkOptions { Seed = 99, MaxBatch = 32, Threads = 1 });
        SaveReloadPredict(net, fresh, validation);
    }

    [Fact]
    public void A_folder_of_RGB_PNGs_trains_with_augmentation_saves_reloads_and_predicts()
    {
        // StridePad takes 3x8x7 images, 5 classes: class c is a bright horizontal bar at rows c and c+1 in channel c % 3, over noise.
        var rng = new Random(4);
        for (int c = 0; c < 5; c++)
            for (int n = 0; n < 24; n++)
            {
                var rgb = new byte[8 * 7 * 3];
                for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)rng.Next(60);
                for (int y = c; y <= c + 1; y++)
                    for (int x = 0; x < 7; x++) rgb[(y * 7 + x) * 3 + c % 3] = (byte)(200 + rng.Next(55));
                string folder = Path.Combine(_dir.Path, "images", $"class-{c}");
                Directory.CreateDirectory(folder);
                File.WriteAllBytes(Path.Combine(folder, $"{n:D3}.png"), PngWriter.Encode(7, 8, 2, rgb));
            }

        Dataset images = ImageFolder.Load(Path.Combine(_dir.Path, "images"));
        Assert.Equal(new[] { 3, 8, 7 }, images.Shape);
        Assert.Equal(120, images.Count);
        var (train, validation) = images.Split(0.25, seed: 1, stratify: true);
        var (mean, std) = Augmentation.Statistics(train);
        var augmentation = new Augmentation { HorizontalFlip = true, Mean = mean, Std = std };

        using var net = new StridePad(new NetworkOptions { Seed = 2, MaxBatch = 16, Threads = 2 });
        using var loader = new BatchLoader(train, 16, seed: 5, augmentation: augmentation);
        Train(net, loader, 20, 0.1f);
        Dataset normalized = augmentation.Normalize(validation);
        Assert.True(Trainer.Evaluate(net, normalized) >= 0.9, $"validation accuracy {Trainer.Evaluate(net, normalized)}");
        using var fresh = new StridePad(new NetworkOptions { Seed = 3, MaxBatch = 16, Threads = 1 });
        SaveReloadPredict(net, fresh, normalized);
    }

    [Fact]
    public void Float_arrays_train_save_reload_and_predict()
    {
        var (values, labels) = Blobs(150, 6, 7);
        var data = new Dataset(values, labels, [6]);
        var (train, validation) = data.Split(0.2, seed: 8);
        // MaxBatch 32, not 25: a MaxBatch that is not a multiple of the lane count breaks Infer (issue 12 item 1).
        using var net = new InputBatchNorm(new NetworkOptions { Seed = 4, MaxBatch = 32, Threads = 1 });
        using var loader = new BatchLoader(train, 25, seed: 9);
        Train(net, loader, 30, 0.3f);
        Assert.True(Trainer.Evaluate(net, validation) >= 0.95, $"validation accuracy {Trainer.Evaluate(net, validation)}");
        using var fresh = new InputBatchNorm(new NetworkOptions { Seed = 5, MaxBatch = 32, Threads = 1 });
        SaveReloadPredict(net, fresh, validation);
    }
}
