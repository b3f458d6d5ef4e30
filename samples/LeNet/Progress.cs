using System;
using System.Globalization;
using GraphGen.Training;
using Spectre.Console;

namespace GraphGen.Samples;

/// <summary>A live progress bar per epoch (images/s, running loss) on a terminal; nothing extra when
/// the output is redirected, where the one line per epoch is the log.</summary>
internal static class Progress
{
    public static EpochResult RunEpoch(Trainer trainer, int epoch, int epochs)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
        {
            trainer.Progress = null;
            return trainer.RunEpoch(epoch);
        }
        EpochResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask($"epoch {epoch}/{epochs}");
                trainer.Progress = p =>
                {
                    task.MaxValue = p.Batches;
                    task.Value = p.Batch;
                    double rate = p.Samples / Math.Max(p.Elapsed.TotalSeconds, 1e-9);
                    task.Description = string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}/{epochs}  loss {p.RunningLoss:F4}  acc {p.RunningAccuracy:F3}  {rate:N0} img/s");
                };
                result = trainer.RunEpoch(epoch);
                task.Value = task.MaxValue;
            });
        trainer.Progress = null;
        return result!;
    }
}
