using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Training;

namespace GraphGen.Samples;

/// <summary>What a run leaves behind: epochs.csv, curves.png (loss and accuracies per epoch) and
/// confusion.csv, plus the confusion matrix printed with the class names.</summary>
internal static class Report
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes epochs.csv, curves.png and (given a matrix) confusion.csv into <paramref name="directory"/>,
    /// each atomically: a failure leaves the previous file whole.</summary>
    public static void Write(DirectoryInfo directory, IReadOnlyList<EpochResult> results, long[,]? confusion, Action<string> log)
    {
        if (results.Count == 0) return;
        directory.Create();
        string csv = Path.Combine(directory.FullName, "epochs.csv");
        var sb = new StringBuilder(EpochsHeader);
        foreach (var r in results)
            sb.Append(Inv, $"{r.Epoch},{r.Loss:R},{r.TrainAccuracy:R},{r.TestAccuracy:R},{r.TrainTime.TotalSeconds:F3},{r.EvalTime.TotalSeconds:F3},{r.ImagesPerSecond:F0}\n");
        WriteText(csv, sb.ToString());
        string png = Path.Combine(directory.FullName, "curves.png");
        byte[] image = Plot(results);
        AtomicFile.Write(png, stream => stream.Write(image));
        log($"wrote {Shown(csv)} and {Shown(png)}");
        if (confusion is null) return;
        string matrix = Path.Combine(directory.FullName, "confusion.csv");
        var m = new StringBuilder("label\\prediction," + string.Join(",", FashionMnist.ClassNames) + "\n");
        for (int i = 0; i < confusion.GetLength(0); i++)
            m.Append(FashionMnist.ClassNames[i]).Append(',').AppendJoin(',', Enumerable.Range(0, confusion.GetLength(1)).Select(j => confusion[i, j])).Append('\n');
        WriteText(matrix, m.ToString());
    }

    private const string EpochsHeader = "epoch,loss,train_accuracy,test_accuracy,train_seconds,eval_seconds,images_per_second\n";

    /// <summary>Before training: creates <paramref name="directory"/> and proves each report file can be written there
    /// (a file of a realistic size is written and deleted; existing reports are left alone).</summary>
    public static void CheckWritable(DirectoryInfo directory)
    {
        try
        {
            directory.Create();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the --out directory {directory.FullName}: {e.Message}", e);
        }
        var room = new byte[256 * 1024]; // a 900x540 PNG of three curves is well under this
        foreach (string name in new[] { "epochs.csv", "curves.png", "confusion.csv" })
            AtomicFile.Probe(Path.Combine(directory.FullName, name), stream => stream.Write(name == "curves.png" ? room : room.AsSpan(0, 4096)));
    }

    private static void WriteText(string path, string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>A path as the user would type it: relative to the working directory when inside it.</summary>
    public static string Shown(string path)
    {
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }

    private static byte[] Plot(IReadOnlyList<EpochResult> results)
    {
        double[] epochs = results.Select(r => (double)r.Epoch).ToArray();
        var plot = new ScottPlot.Plot();
        var loss = plot.Add.Scatter(epochs, results.Select(r => r.Loss).ToArray());
        loss.LegendText = "train loss (right axis)";
        loss.Axes.YAxis = plot.Axes.Right;
        var train = plot.Add.Scatter(epochs, results.Select(r => r.TrainAccuracy).ToArray());
        train.LegendText = "train accuracy";
        var test = plot.Add.Scatter(epochs, results.Select(r => r.TestAccuracy).ToArray());
        test.LegendText = "test accuracy";
        plot.Title("LeNet-BN on FashionMNIST (GraphGen)");
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Left.Label.Text = "accuracy";
        plot.Axes.Right.Label.Text = "loss";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1); // whole epochs
        plot.ShowLegend(ScottPlot.Edge.Bottom); // outside the data, which fills the whole frame
        using ScottPlot.Image image = plot.GetImage(900, 540);
        return image.GetImageBytes(ScottPlot.ImageFormat.Png, 100);
    }

    public static void PrintConfusion(long[,] confusion, double accuracy)
    {
        var names = FashionMnist.ClassNames;
        var sb = new StringBuilder();
        sb.Append(Inv, $"test set confusion matrix (rows: label, columns: prediction), accuracy {accuracy:F4}\n");
        sb.Append($"{"",-12}");
        foreach (var n in names) sb.Append($" {Short(n),7}");
        sb.Append("  recall\n");
        for (int i = 0; i < names.Count; i++)
        {
            long total = Enumerable.Range(0, names.Count).Sum(j => confusion[i, j]);
            sb.Append($"{names[i],-12}");
            for (int j = 0; j < names.Count; j++) sb.Append(Inv, $" {confusion[i, j],7}");
            sb.Append(total == 0 ? "       -" : ((double)confusion[i, i] / total).ToString(" 0.0%", Inv).PadLeft(8)).Append('\n');
        }
        Console.Write(sb.ToString());
    }

    private static string Short(string name) => name switch { "T-shirt/top" => "T-shirt", "Ankle boot" => "Boot", _ => name.Length <= 7 ? name : name[..7] };
}
