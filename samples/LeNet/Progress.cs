using System;
using System.Collections.Generic;
using System.Globalization;
using GraphGen.Training;
using Spectre.Console;

namespace GraphGen.Samples;

/// <summary>A live progress bar per epoch (images/s, running loss) on a terminal; nothing extra when
/// the output is redirected, where the one line per epoch is the log.</summary>
internal static class Progress
{
    private static readonly List<string> Pending = new();
    private static bool _live;

    private static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Prints a line now, or, while the live bars are drawn, when they are gone.</summary>
    public static void Log(string line)
    {
        if (_live) Pending.Add(line);
        else Console.WriteLine(line);
    }

    /// <summary>Runs <see cref="Trainer.Fit"/> with a bar for each epoch on a terminal.</summary>
    public static FitResult Fit(Trainer trainer, ILabelledSamples? validation, FitOptions options, int epochs)
    {
        if (!Interactive)
        {
            trainer.Progress = null;
            return trainer.Fit(validation, options);
        }
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
                        double rate = p.Samples / Math.Max(p.Elapsed.TotalSeconds, 1e-9);
                        task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch}/{epochs}  loss {p.RunningLoss:F4}  acc {p.RunningAccuracy:F3}  {rate:N0} img/s");
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
