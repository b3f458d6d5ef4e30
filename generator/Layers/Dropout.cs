using System.Collections.Generic;
using System.Globalization;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Vocabulary;

namespace GraphGen.Generator.Layers;

/// <summary>[Dropout(rate)]: in training each value is zeroed with probability Rate (0 ≤ Rate &lt; 1), else
/// scaled by 1/(1 − Rate); the identity in inference. Its step counter, which draws the masks, is state.</summary>
internal sealed class Dropout : LayerDefinition
{
    public override LayerKind Kind => LayerKind.Dropout;
    public override string AttributeName => nameof(DropoutAttribute);
    public override string Stem => "dropout";
    public override FusionSlot Slot => FusionSlot.Producer;

    public override LayerSpec Read(IArgumentReader a) => new(Kind, 0, 0, false, 0, 0, 0, 0, 0, Rate: DoubleOr(a.Positional(0), 0));

    public override void Check(LayerSpec s, LayerFindings f)
    {
        if (!(s.Rate >= 0 && s.Rate < 1))
            f.Report(nameof(DropoutAttribute.Rate), DiagnosticDescriptors.InvalidDropoutRate, f.What, s.Rate.ToString("R", CultureInfo.InvariantCulture));
    }

    // The training step counter that draws the masks: state, saved with checkpoints.
    public override IEnumerable<LayerTensor> Tensors(LayerModel l) => new[] { new LayerTensor("step", new[] { 1 }, false) };

    public override string InfoProperties(LayerModel l) => $", Rate = {Num(l.Rate)}";
}
