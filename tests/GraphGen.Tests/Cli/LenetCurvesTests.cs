using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Tests.Guarantees;
using GraphGen.Training;
using ScottPlot;
using Xunit;
using static GraphGen.Tests.Cli.LenetCliTests;
using static ScottPlot.IMultiplotExtensions;

namespace GraphGen.Tests.Cli;

/// <summary>Issue 13: curves.png in two panels, the losses (train, test, validation) above the accuracies, readable
/// at 2 epochs and at 100; the test loss in epochs.csv after the old columns.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class LenetCurvesTests : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly ScratchDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EpochResult[] Results(int epochs, bool validation = false) => Enumerable.Range(1, epochs).Select(e => new EpochResult(
        e, 2.0 / (e + 1), 0.5 + 0.4 * e / epochs, 0.45 + 0.35 * e / epochs, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(0.5), 1000)
    {
        TestLoss = 2.2 / (e + 1) + 0.1,
        ValidationAccuracy = validation ? 0.4 + 0.3 * e / epochs : double.NaN,
        ValidationLoss = validation ? 2.5 / (e + 1) : double.NaN,
    }).ToArray();

    private static void AssertCurve(Plot plot, string legend, IEnumerable<double> ys, float markerSize)
    {
        var scatter = Assert.Single(plot.GetPlottables<ScottPlot.Plottables.Scatter>(), s => s.LegendText == legend);
        Assert.Equal(ys.ToArray(), scatter.Data.GetScatterPoints().Select(c => c.Y).ToArray());
        Assert.Equal(markerSize, scatter.MarkerSize);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(100)]
    public void Curves_are_two_panels_losses_above_accuracies_readable_at_2_and_100_epochs(int epochs)
    {
        EpochResult[] results = Results(epochs);
        Multiplot figure = Report.Curves(results);
        Assert.Equal(2, figure.Count());
        Plot loss = figure.GetPlot(0), accuracy = figure.GetPlot(1);
        float markers = epochs <= Report.MarkedEpochs ? 7 : 0; // two epochs are two visible points
        Assert.Equal(2, loss.GetPlottables().Count());
        AssertCurve(loss, "train loss", results.Select(r => r.Loss), markers);
        AssertCurve(loss, "test loss", results.Select(r => r.TestLoss), markers);
        Assert.Equal(2, accuracy.GetPlottables().Count());
        AssertCurve(accuracy, "train accuracy", results.Select(r => r.TrainAccuracy), markers);
        AssertCurve(accuracy, "test accuracy", results.Select(r => r.TestAccuracy), markers);

        using (figure.Render(900, 720)) { }
        foreach (Plot plot in new[] { loss, accuracy })
        {
            AxisLimits limits = plot.Axes.GetLimits();
            Assert.Equal((0.5, epochs + 0.5), (limits.Left, limits.Right));
            // Whole epochs only, and not one tick per epoch at 100 (ScottPlot picks a readable spacing).
            double[] ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor && t.Position >= limits.Left && t.Position <= limits.Right).Select(t => t.Position).ToArray();
            Assert.All(ticks, t => Assert.Equal(Math.Round(t), t));
            if (epochs == 2) Assert.Equal([1.0, 2.0], ticks);
            else Assert.InRange(ticks.Length, 4, 25);
        }
        AxisLimits lossLimits = loss.Axes.GetLimits(), accuracyLimits = accuracy.Axes.GetLimits();
        Assert.True(lossLimits.Bottom <= 0 && lossLimits.Bottom > -0.1 && lossLimits.Top >= results.Max(r => Math.Max(r.Loss, r.TestLoss)), $"loss axis {lossLimits}");
        double lowest = results.Min(r => Math.Min(r.TrainAccuracy, r.TestAccuracy)), highest = results.Max(r => Math.Max(r.TrainAccuracy, r.TestAccuracy));
        Assert.True(accuracyLimits.Bottom < lowest && accuracyLimits.Bottom >= -0.02 && accuracyLimits.Top > highest && accuracyLimits.Top <= 1.02, $"accuracy axis {accuracyLimits}");
    }

    [Fact]
    public void With_a_validation_set_each_panel_has_its_validation_curve()
    {
        EpochResult[] results = Results(3, validation: true);
        Multiplot figure = Report.Curves(results);
        AssertCurve(figure.GetPlot(0), "validation loss", results.Select(r => r.ValidationLoss), 7);
        AssertCurve(figure.GetPlot(1), "validation accuracy", results.Select(r => r.ValidationAccuracy), 7);
        Assert.Equal(3, figure.GetPlot(0).GetPlottables().Count());
    }

    [Fact]
    public void The_report_writes_the_two_panel_png_and_a_test_loss_column_after_the_old_ones()
    {
        EpochResult[] results = Results(2);
        string output = _dir.File("report");
        Report.Write(new DirectoryInfo(output), results, null, _ => { });
        var (_, width, height, _) = Png.Decode("curves.png", File.ReadAllBytes(Path.Combine(output, "curves.png")));
        Assert.Equal((900, 720), (width, height));
        string[] csv = File.ReadAllLines(Path.Combine(output, "epochs.csv"));
        Assert.Equal("epoch,loss,train_accuracy,test_accuracy,train_seconds,eval_seconds,images_per_second,test_loss", csv[0]);
        for (int i = 0; i < 2; i++)
        {
            string[] cells = csv[i + 1].Split(',');
            Assert.Equal(results[i].TestAccuracy, double.Parse(cells[3], Inv));
            Assert.Equal(results[i].TestLoss, double.Parse(cells[7], Inv));
        }
    }

    [Fact]
    public void Train_writes_the_test_loss_of_the_saved_network()
    {
        string data = SyntheticData.Create(_dir.File("data"));
        string checkpoint = _dir.File("a.safetensors");
        Run r = Lenet("train", "--epochs", "1", "--batch-size", "64", "--threads", "1", "--data-dir", data, "--no-install", "--out", _dir.File("out"), "--save", checkpoint);
        Assert.True(r.Code == 0, r.ToString());
        double testLoss = double.Parse(File.ReadAllLines(_dir.File("out/epochs.csv"))[1].Split(',')[7], Inv);
        // The mean cross-entropy of the saved network's logits on the test set, computed here.
        using var net = new GraphGen.Samples.LeNet(new NetworkOptions { Threads = 1 });
        Checkpoint.Load(net, checkpoint);
        Dataset test = FashionMnist.LoadTest(data);
        var logits = new float[test.Count * 10];
        net.Infer(test.Pixels, logits);
        double sum = 0;
        for (int i = 0; i < test.Count; i++)
        {
            double[] z = logits.Skip(i * 10).Take(10).Select(v => (double)v).ToArray();
            sum += Math.Log(z.Sum(Math.Exp)) - z[test.Labels[i]];
        }
        Assert.Equal(sum / test.Count, testLoss, 1e-9);
    }
}
