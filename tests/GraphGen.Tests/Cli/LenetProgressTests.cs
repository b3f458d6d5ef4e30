using System;
using System.Globalization;
using System.IO;
using GraphGen.Samples;
using GraphGen.Training;
using ColorSystem = Spectre.Console.ColorSystem;
using Xunit;

namespace GraphGen.Tests.Cli;

/// <summary>Issue 13: training progress shows on a terminal without colour (a plain line, no escape sequences), as
/// a bar on a colour terminal, and not at all when the output is redirected (the per-epoch lines are the log).</summary>
public class LenetProgressTests
{
    [Fact]
    public void Progress_is_a_bar_only_on_a_colour_terminal_plain_text_on_any_other_and_none_when_redirected()
    {
        Assert.Equal(ProgressStyle.Bar, Progress.Choose(redirected: false, ansi: true, ColorSystem.TrueColor));
        Assert.Equal(ProgressStyle.Bar, Progress.Choose(redirected: false, ansi: true, ColorSystem.Legacy));
        Assert.Equal(ProgressStyle.Plain, Progress.Choose(redirected: false, ansi: true, ColorSystem.NoColors)); // NO_COLOR
        Assert.Equal(ProgressStyle.Plain, Progress.Choose(redirected: false, ansi: false, ColorSystem.NoColors)); // TERM=dumb
        Assert.Equal(ProgressStyle.None, Progress.Choose(redirected: true, ansi: true, ColorSystem.TrueColor));
        Assert.Equal(ProgressStyle.None, Progress.Choose(redirected: true, ansi: false, ColorSystem.NoColors));
    }

    [Fact]
    public void The_plain_progress_line_shows_images_per_second_and_the_running_loss_without_escape_sequences()
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var progress = new PlainProgress(output);
        static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);
        // Batches 2 and 3 come within the interval of the first and are not drawn; the last batch always is.
        progress.Show(new BatchProgress(2, 1, 4, 128, 0.6931, 0.5, Ms(100)), epochs: 10);
        progress.Show(new BatchProgress(2, 2, 4, 256, 0.65, 0.5, Ms(150)), epochs: 10);
        progress.Show(new BatchProgress(2, 3, 4, 384, 0.6, 0.5, Ms(300)), epochs: 10);
        progress.Show(new BatchProgress(2, 4, 4, 500, 0.51234, 0.75, Ms(400)), epochs: 10);
        progress.Clear();
        string first = "epoch 2/10  batch 1/4 (25%)  loss 0.6931  acc 0.500  1,280 img/s";   // 128 images in 0.1 s
        string last = "epoch 2/10  batch 4/4 (100%)  loss 0.5123  acc 0.750  1,250 img/s";   // 500 images in 0.4 s
        Assert.Equal("\r" + first + "\r" + last + "\r" + new string(' ', last.Length) + "\r", output.ToString());
        Assert.DoesNotContain('\x1b', output.ToString());
        Assert.True(last.Length < 80);
    }
}
