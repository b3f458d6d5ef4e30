namespace GraphGen.Onnx.Nodes;

/// <summary>AvgPool2D → AveragePool.</summary>
internal sealed class AvgPool2DNode : Pool2DNode
{
    public override LayerKind Kind => LayerKind.AvgPool2D;
    protected override string OpType => "AveragePool";
}
