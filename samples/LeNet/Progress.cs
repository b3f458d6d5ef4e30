using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using GraphGen.Training;
using Spectre.Console;

namespace GraphGen.Samples;

/// <summary>How training progress is shown within an epoch.</summary>
internal enum ProgressStyle
{
    /// <summary>Nothing between the per-epoch lines: the output is redirected, and those lines are the log.</summary>
    None,
    /// <summary>Spectre.Console's live bars, on a terminal that takes ANSI escapes and colours.</summary>
    Bar,
    /// <summary>One plain-text line rewritten with a carriage return: no escape sequence at all (NO_COLOR, TERM=dumb).</summary>
    Plain,
}

/// <summary>Progress within each epoch (images/s, running loss and accuracy): a live bar on a colour terminal, a plain
/// line on any other terminal, nothing extra when the output is redirected, where the one line per epoch is the log.</summary>
internal static class Progress
{
    private static readonly List<string> Pending = new();
    private static bool _live;
    private static PlainProgress? _plain;

    /// <summary>The style for an output that is or is not <paramref name="redirected"/>, on a terminal with or without
    /// <paramref name="ansi"/> escapes and with <paramref name="colors"/> (Spectre.Console's detection: NO_COLOR gives
    /// <see cref="ColorSystem.NoColors"/>). The bar tells done from to-do by colour alone, so without colours the plain line shows.</summary>
    public static ProgressStyle Choose(bool redirected, bool ansi, ColorSystem colors) =>
        redirected ? ProgressStyle.None : ansi && colors != ColorSystem.NoColors ? ProgressStyle.Bar : ProgressStyle.Plain;

    private static ProgressStyle Style =>
        Choose(Console.IsOutputRedirected, AnsiConsole.Profile.Capabilities.Ansi, AnsiConsole.Profile.Capabilities.ColorSystem);

    /// <summary>Prints a line now (after wiping the plain progress line), or, while the live bars are drawn, when they are gone.</summary>
    public static void Log(string line)
    {
        if (_live) { Pending.Add(line); return; }
        _plain?.Clear();
        Console.WriteLine(line);
    }

    /// <summary>Runs <see cref="Trainer.Fit"/>, showing each epoch's progress in the <see cref="Style"/> of this output.</summary>
    public static FitResult Fit(Trainer trainer, ILabelledSamples? validation, FitOptions options, int epochs)
    {
        switch (Style)
        {
            case ProgressStyle.None:
                trainer.Progress = null;
                return trainer.Fit(validation, options);
            case ProgressStyle.Plain:
                _plain = new PlainProgress(Console.Out);
                try
                {
                    trainer.Progress = p => _plain.Show(p, epochs);
                    return trainer.Fit(validation, options);
                }
                finally
                {
                    trainer.Progress = null;
                    _plain.Clear();
                    _plain = null;
                }
            default:
                return FitWithBars(trainer, validation, options, epochs);
        }
    }

    private static FitResult FitWithBars(Trainer trainer, ILabelledSamples? validation, FitOptions options, int epochs)
    {
        FitResult? result = null;
        _live = true;
        try
        {
            AnsiConsole.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    ProgressTask? task = null;
                    trainer.Progress = p =>
                    {
                        if (p.Batch == 1)
                        {
                            if (task is not null) task.Value = task.MaxValue;
                            task = ctx.AddTask($"epoch {p.Epoch}/{epochs}");
                        }
                        task!.MaxValue = p.Batches;
                        task.Value = p.Batch;
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{epochs}  loss {p.RunningLoss:F4}  acc {p.RunningAccuracy:F3}  {PlainProgress.Rate(p):N0} img/s");
                    };
                    result = trainer.Fit(validation, options);
                    if (task is not null) task.Value = task.MaxValue;
                });
        }
        finally
        {
            trainer.Progress = null;
            _live = false;
            foreach (string line in Pending) Console.WriteLine(line);
            Pending.Clear();
        }
        return result!;
    }
}

/// <summary>The progress of the running epoch as one line of plain text, rewritten in place with a carriage return
/// at most every <see cref="Interval"/> (and always for an epoch's first and last batch). It stays under 80 columns,
/// so that it does not wrap, which a carriage return could not undo.</summary>
internal sealed class PlainProgress(TextWriter output)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private int _width; // characters of progress on the screen's current line
    private TimeSpan _shown;

    /// <summary>Training images per second so far in the epoch.</summary>
    public static double Rate(BatchProgress p) => p.Samples / Math.Max(p.Elapsed.TotalSeconds, 1e-9);

    /// <summary>"epoch 2/10  batch 120/235 (51%)  loss 0.6123  acc 0.781  14,210 img/s".</summary>
    public static string Line(BatchProgress p, int epochs) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{epochs}  batch {p.Batch}/{p.Batches} ({100L * p.Batch / p.Batches}%)  loss {p.RunningLoss:F4}  acc {p.RunningAccuracy:F3}  {Rate(p):N0} img/s");

    public void Show(BatchProgress p, int epochs)
    {
        if (p.Batch != 1 && p.Batch != p.Batches && p.Elapsed - _shown < Interval) return;
        _shown = p.Elapsed;
        string line = Line(p, epochs);
        output.Write("\r" + line.PadRight(_width)); // spaces over the end of a longer previous line
        _width = Math.Max(_width, line.Length);
        output.Flush();
    }

    /// <summary>Blanks the progress line and returns to its start, for the next line of output.</summary>
    public void Clear()
    {
        if (_width == 0) return;
        output.Write("\r" + new string(' ', _width) + "\r");
        _width = 0;
        output.Flush();
    }
}
