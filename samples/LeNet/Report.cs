using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Training;
using static ScottPlot.IMultiplotExtensions; // AddPlot, Render, GetPlot

namespace GraphGen.Samples;

/// <summary>What a run leaves behind: epochs.csv, curves.png (losses and accuracies per epoch, two panels) and
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
            sb.Append(Inv, $"{r.Epoch},{r.Loss:R},{r.TrainAccuracy:R},{r.TestAccuracy:R},{r.TrainTime.TotalSeconds:F3},{r.EvalTime.TotalSeconds:F3},{r.ImagesPerSecond:F0},{r.TestLoss:R}\n");
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

    // test_loss came last, after the columns of earlier versions, so that their positions stay.
    private const string EpochsHeader = "epoch,loss,train_accuracy,test_accuracy,train_seconds,eval_seconds,images_per_second,test_loss\n";

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
        var room = new byte[256 * 1024]; // a 900x720 PNG of two panels of curves is well under this
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

    /// <summary>Epochs up to this many get a marker on every point; a longer run is drawn as lines only.</summary>
    internal const int MarkedEpochs = 30;

    private static byte[] Plot(IReadOnlyList<EpochResult> results)
    {
        ScottPlot.Multiplot figure = Curves(results);
        using ScottPlot.Image image = figure.Render(900, 720);
        return image.GetImageBytes(ScottPlot.ImageFormat.Png, 100);
    }

    /// <summary>Two panels over the epochs, one above the other: the losses (train, test, and validation when there is
    /// one) and the accuracies. Two panels, not two y-axes on one, which crossed misleadingly in a short run. Every
    /// point has a marker up to <see cref="MarkedEpochs"/> epochs, so that two epochs read as two points; the x-axis
    /// spans the epochs with half an epoch either side and whole-epoch ticks; the loss axis starts at 0, the accuracy
    /// axis spans the accuracies in steps of 0.05 within [0, 1].</summary>
    internal static ScottPlot.Multiplot Curves(IReadOnlyList<EpochResult> results)
    {
        double[] epochs = results.Select(r => (double)r.Epoch).ToArray();
        var loss = new ScottPlot.Plot();
        var figure = new ScottPlot.Multiplot(loss) { Layout = new ScottPlot.MultiplotLayouts.Rows() };
        ScottPlot.Plot accuracy = figure.AddPlot();
        void Curve(ScottPlot.Plot plot, string name, Func<EpochResult, double> value)
        {
            double[] ys = results.Select(value).ToArray();
            if (!ys.Any(double.IsFinite)) return; // no test or validation set
            var scatter = plot.Add.Scatter(epochs, ys);
            scatter.LegendText = name;
            scatter.MarkerSize = results.Count <= MarkedEpochs ? 7 : 0;
        }
        Curve(loss, "train loss", r => r.Loss);
        Curve(loss, "test loss", r => r.TestLoss);
        Curve(loss, "validation loss", r => r.ValidationLoss);
        Curve(accuracy, "train accuracy", r => r.TrainAccuracy);
        Curve(accuracy, "test accuracy", r => r.TestAccuracy);
        Curve(accuracy, "validation accuracy", r => r.ValidationAccuracy);
        loss.Title("LeNet-BN on FashionMNIST (GraphGen)");
        loss.Axes.Left.Label.Text = "loss (cross-entropy)";
        accuracy.Axes.Left.Label.Text = "accuracy";
        accuracy.Axes.Bottom.Label.Text = "epoch";
        double[] losses = results.SelectMany(r => new[] { r.Loss, r.TestLoss, r.ValidationLoss }).Where(double.IsFinite).ToArray();
        double[] accuracies = results.SelectMany(r => new[] { r.TrainAccuracy, r.TestAccuracy, r.ValidationAccuracy }).Where(double.IsFinite).ToArray();
        foreach (ScottPlot.Plot plot in new[] { loss, accuracy })
        {
            plot.Axes.SetLimitsX(epochs[0] - 0.5, epochs[^1] + 0.5);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            // The same margins in both panels, so that their epochs line up.
            plot.Layout.Fixed(new ScottPlot.PixelPadding(80, 30, 50, 40));
        }
        // A little room below 0 and above 1, so that a loss near 0 or an accuracy of 1 is not hidden by the frame.
        if (losses.Length > 0) loss.Axes.SetLimitsY(-0.03 * losses.Max(), Math.Max(losses.Max(), 1e-3) * 1.1);
        if (accuracies.Length > 0)
            accuracy.Axes.SetLimitsY(Math.Max(-0.02, Math.Floor((accuracies.Min() - 0.02) * 20) / 20), Math.Min(1.02, Math.Ceiling((accuracies.Max() + 0.02) * 20) / 20));
        // Losses fall and accuracies rise: the legends go where the curves usually are not.
        loss.ShowLegend(ScottPlot.Alignment.UpperRight);
        accuracy.ShowLegend(ScottPlot.Alignment.LowerRight);
        return figure;
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
