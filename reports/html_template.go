package reports

import "html/template"

var indexTmpl = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Scenario}} — {{.Verdict}}</title>
<style>
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1250px; padding: 0 1em; color: #222; }
.verdict { font-size: 2.4em; font-weight: bold; padding: .4em .7em; border-radius: .2em; color: #fff; margin: 0 0 .3em 0; }
.verdict small { font-size: .45em; font-weight: normal; display: block; }
.valid { background: #2ca02c; } .invalid { background: #d62728; } .unknown { background: #d58a00; }
td.valid, td.invalid, td.unknown { color: #fff; font-weight: bold; }
.skipped, .none { background: #888; } td.skipped, td.none { color: #fff; }
.crashes { border: 3px solid #d62728; padding: .2em .8em; margin: 0 0 1em 0; }
.crashes.known { border-color: #999; }
.crashes h2 { color: #d62728; margin: .3em 0; } .crashes.known h2 { color: #555; }
table { border-collapse: collapse; margin: .5em 0 1.2em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; font-size: .92em; }
th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.grid { display: flex; flex-wrap: wrap; gap: 2em; }
figure { margin: 1em 0 2em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-weight: bold; margin-bottom: .3em; }
tr.missed td { background: #fbe3e3; }
.msg { font-family: monospace; white-space: pre-wrap; word-break: break-word; }
.vals { font-family: monospace; font-size: .85em; word-break: break-all; }
</style>
</head>
<body>
<div class="verdict {{.Verdict}}">{{.Scenario}}: {{.Verdict}}<small>{{.VerdictMsg}}</small></div>
{{range .Crashes}}<div class="crashes{{if .Known}} known{{end}}">
<h2>{{if .Known}}Known crash{{else}}Server crash{{end}}: {{.Node}}{{if .Start}}, start {{.Start}}{{end}}{{if .At}}, at {{.At}}{{end}}</h2>
<p class="msg">{{.Message}}</p>
{{if .Stack}}<pre>{{.Stack}}</pre>{{end}}
<p>{{.Kind}}{{if .Time}} at {{.Time}}{{end}}; log: <a href="{{.LogHref}}">{{.Log}}</a>{{if .Known}}; matches check.known_crashes <code>{{.Known}}</code>: reported, not an anomaly{{end}}</p>
</div>
{{end}}

<h2>Checks</h2>
<table>
<tr><th>check</th><th>verdict</th><th>message</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td class="msg">{{.Message}}</td></tr>
{{else}}<tr><td colspan="3">no checks ran</td></tr>
{{end}}</table>
{{if .Unrecovered}}<h3>Nodes that never recovered</h3><ul>{{range .Unrecovered}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}
{{if .Errors}}<h3>Run errors</h3><ul>{{range .Errors}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}

<h2>Summary</h2>
<div class="grid">
<table>
<tr><th colspan="2">run</th></tr>
{{range .Summary}}<tr><td>{{.K}}</td><td>{{.V}}</td></tr>
{{end}}</table>
{{if .Queue}}<table>
<tr><th colspan="2">queue</th></tr>
{{range .Queue}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>{{end}}
<table>
<tr><th colspan="2">throughput and publish latency</th></tr>
{{range .Perf}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>
</div>
{{if .LostValues}}<p>Lost values (first): <span class="vals">{{.LostValues}}</span></p>{{end}}

{{if .PerNode}}<h2>Per node</h2>
<table>
<tr><th>node</th><th>drain complete</th><th>read</th><th>lost</th><th>unexpected</th><th>missing vs others</th><th>lost values (first)</th></tr>
{{range .PerNode}}<tr><td>{{.Node}}</td><td>{{.Complete}}</td><td class="num">{{.Read}}</td><td class="num">{{.Lost}}</td><td class="num">{{.Unexpected}}</td><td class="num">{{.MissingVsOthers}}</td><td class="vals">{{.LostValues}}</td></tr>
{{end}}</table>
{{if .Disagreements}}<ul>{{range .Disagreements}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}
{{end}}

{{if .Consumers}}<h2>Consumers</h2>
<table>
<tr><th>consumer</th><th>verdict</th><th>delivered</th><th>redelivered</th><th>acked</th><th>nak'd</th><th>termed</th><th>dead-lettered</th><th>lost to consumer</th><th>redelivered after ack</th><th>other anomalies</th><th>stalls</th><th>first delivery p50 / p99 ms</th><th>worst catch-up s</th></tr>
{{range .Consumers}}<tr><td>{{.Name}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td class="num">{{.S.Delivered}}</td><td class="num">{{.S.Redelivered}}</td><td class="num">{{.S.Acked}}</td><td class="num">{{.S.Nakd}}</td><td class="num">{{.S.Termed}}</td><td class="num">{{.S.DeadLettered}}</td><td class="num">{{.S.LostToConsumer}}</td><td class="num">{{.S.RedeliveredAfterAck}}</td><td class="msg">{{.Other}}</td><td class="num">{{.S.Stalls}}</td><td class="num">{{.Latency}}</td><td class="num">{{.CatchUp}}</td></tr>
{{end}}</table>
{{end}}

{{with .Batches}}<h2>Batches</h2>
<table>
<tr><th colspan="2">batches (atomic check)</th></tr>
{{range .Counts}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>
{{if .Reads}}<table>
<tr><th>read path</th><th>reads</th><th>errors</th><th>partial batches seen</th><th>seen then lost</th></tr>
{{range .Reads}}<tr><td>{{.Path}}</td><td class="num">{{.S.Reads}}</td><td class="num">{{.S.Errors}}</td><td class="num">{{.S.Partial}}</td><td class="num">{{.S.SeenThenLost}}</td></tr>
{{end}}</table>{{end}}
{{if .Nodes}}<table>
<tr><th>node</th><th>read complete</th><th>whole</th><th>lost</th><th>partial</th><th>duplicated</th><th>failed but stored</th><th>misplaced</th><th>unexpected</th></tr>
{{range .Nodes}}<tr><td>{{.Node}}</td><td>{{.S.Complete}}</td><td class="num">{{.S.Whole}}</td><td class="num">{{.S.Lost}}</td><td class="num">{{.S.Partial}}</td><td class="num">{{.S.Duplicated}}</td><td class="num">{{.S.FailedStored}}</td><td class="num">{{.S.Misplaced}}</td><td class="num">{{.S.Unexpected}}</td></tr>
{{end}}</table>{{end}}
{{if .Anomalies}}<ul>{{range .Anomalies}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}
{{end}}

{{with .Counters}}<h2>Counters</h2>
<table>
<tr><th colspan="2">increments (counter check)</th></tr>
{{range .Counts}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>
<table>
<tr><th>counter</th><th>final value</th><th>chain's last total</th><th>acked increments' sum</th><th>increments stored</th></tr>
{{range .Values}}<tr><td>{{.Counter}}</td><td class="num">{{if .V.HasFinal}}{{.V.Final}}{{else}}none{{end}}</td><td class="num">{{.V.ChainLast}}</td><td class="num">{{.V.AckedSum}}</td><td class="num">{{.V.Links}}</td></tr>
{{end}}</table>
{{if .Nodes}}<table>
<tr><th>node</th><th>read complete</th><th>applied</th><th>lost</th><th>duplicated</th><th>failed but applied</th><th>ack mismatches</th><th>chain breaks</th><th>unexpected</th></tr>
{{range .Nodes}}<tr><td>{{.Node}}</td><td>{{.S.Complete}}</td><td class="num">{{.S.Applied}}</td><td class="num">{{.S.Lost}}</td><td class="num">{{.S.Duplicated}}</td><td class="num">{{.S.FailedApplied}}</td><td class="num">{{.S.AckMismatch}}</td><td class="num">{{.S.ChainBreaks}}</td><td class="num">{{.S.Unexpected}}</td></tr>
{{end}}</table>{{end}}
{{if .Anomalies}}<ul>{{range .Anomalies}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}
{{end}}

{{range .Times}}<h2>{{.Title}}</h2>
<table>
<tr><th colspan="2">{{.Title}} (check)</th></tr>
{{range .Counts}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>
{{if .Nodes}}<table>
<tr><th>reads of</th><th>early</th><th>late</th><th>lost</th><th>markers missing</th><th>latest past deadline (ms)</th><th>under faults (ms, not counted)</th><th>final read incomplete</th></tr>
{{range .Nodes}}<tr><td>{{.Node}}</td><td class="num">{{.S.Early}}</td><td class="num">{{.S.Late}}</td><td class="num">{{.S.Lost}}</td><td class="num">{{.S.MarkersMissing}}</td><td class="num">{{.S.MaxLatenessMs}}</td><td class="num">{{.S.DownMs}}</td><td>{{.S.Incomplete}}</td></tr>
{{end}}</table>{{end}}
{{if .Anomalies}}<ul>{{range .Anomalies}}<li class="msg">{{.}}</li>{{end}}</ul>{{end}}
{{end}}

{{if .NodeLogRows}}<h2>Node logs</h2>
<table>
<tr><th>node</th><th>starts</th><th>known-bad warnings</th><th>count</th><th>first</th></tr>
{{range .NodeLogRows}}{{$n := .}}{{range $i, $w := .Warnings}}<tr>{{if eq $i 0}}<td rowspan="{{len $n.Warnings}}"><a href="{{$n.Log}}">{{$n.Node}}</a></td><td class="num" rowspan="{{len $n.Warnings}}">{{$n.Starts}}</td>{{end}}<td>{{$w.Name}}</td><td class="num">{{$w.Count}}</td><td class="vals">{{$w.First}}</td></tr>
{{else}}<tr><td><a href="{{.Log}}">{{.Node}}</a></td><td class="num">{{.Starts}}</td><td colspan="3">none</td></tr>
{{end}}{{end}}</table>
{{end}}

<h2>Faults</h2>
{{if .Injected}}<table>
<tr><th>start</th><th>end</th><th>duration</th><th>fault</th><th>status</th><th>parameters</th><th>error</th></tr>
{{range .Injected}}<tr><td class="num">{{.Start}}</td><td class="num">{{.End}}</td><td class="num">{{.Duration}}</td><td>{{.Label}}</td><td>{{.Status}}</td><td class="msg">{{.Params}}</td><td class="msg">{{.Err}}</td></tr>
{{end}}</table>{{else}}<p>No fault was injected.</p>{{end}}
{{if .NotInjected}}<h3>Faults that could not be injected</h3>
<table>
<tr><th>at</th><th>fault</th><th>parameters</th><th>error</th></tr>
{{range .NotInjected}}<tr><td class="num">{{.Start}}</td><td>{{.Label}}</td><td class="msg">{{.Params}}</td><td class="msg">{{.Err}}</td></tr>
{{end}}</table>{{end}}
{{if .Planned}}<h3>Planned schedule</h3>
<table>
<tr><th>at</th><th>for</th><th>fault</th><th>seed</th></tr>
{{range .Planned}}<tr><td class="num">{{.At}}</td><td class="num">{{.For}}</td><td>{{.Fault}}</td><td class="num">{{.Seed}}</td></tr>
{{end}}</table>{{else if .PlannedRaw}}<h3>Planned schedule</h3><p class="msg">{{.PlannedRaw}}</p>{{end}}

{{if .BenchSteps}}<h2>Bench steps</h2>
{{if .BenchErrors}}<p>{{.BenchErrors}}</p>{{end}}
<table>
<tr><th>rate</th><th>duration</th><th>offered/s</th><th>acked/s</th><th>ack throughput/s</th><th>consumed/s</th><th>errors</th><th>pub-ack p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>e2e p99 ms</th></tr>
{{range .BenchSteps}}<tr><td class="num">{{.Rate}}</td><td class="num">{{.Duration}}</td><td class="num">{{.Offered}}</td><td class="num">{{.Acked}}</td><td class="num">{{.AckThroughput}}</td><td class="num">{{.Consumed}}</td><td class="num">{{.Errors}}</td><td class="num">{{.P50}}</td><td class="num">{{.P99}}</td><td class="num">{{.P999}}</td><td class="num">{{.E2EP99}}</td></tr>
{{end}}</table>{{end}}

{{if .Capacity}}<h2>Capacity</h2>
<table>{{range .Capacity}}<tr><td>{{.K}}</td><td class="num">{{.V}}</td></tr>
{{end}}</table>
<table>
<tr><th>rate</th><th>duration</th><th>offered/s</th><th>acked/s</th><th>ack throughput/s</th><th>consumed/s</th><th>errors</th><th>pub-ack p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>e2e p99 ms</th><th>held SLO</th></tr>
{{range .CapacitySteps}}<tr{{if eq .Held "no"}} class="missed"{{end}}><td class="num">{{.Rate}}</td><td class="num">{{.Duration}}</td><td class="num">{{.Offered}}</td><td class="num">{{.Acked}}</td><td class="num">{{.AckThroughput}}</td><td class="num">{{.Consumed}}</td><td class="num">{{.Errors}}</td><td class="num">{{.P50}}</td><td class="num">{{.P99}}</td><td class="num">{{.P999}}</td><td class="num">{{.E2EP99}}</td><td>{{.Held}}</td></tr>
{{end}}</table>{{end}}

{{if .Sweep}}<h2>Sweep of {{.SweepKey}}</h2>
<table>
<tr><th>{{.SweepKey}}</th><th>throughput/s</th><th>pub-ack p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>e2e p99 ms</th><th title="publishes outside every fault window (the fault and a margin after it)">calm p50 ms</th><th>calm p99 ms</th><th>errors</th><th>acked</th><th>lost</th><th>verdict</th><th>message</th></tr>
{{range .Sweep}}<tr><td>{{.Value}}</td><td class="num">{{.Throughput}}</td><td class="num">{{.P50}}</td><td class="num">{{.P99}}</td><td class="num">{{.P999}}</td><td class="num">{{.E2EP99}}</td><td class="num">{{.CalmP50}}</td><td class="num">{{.CalmP99}}</td><td class="num">{{.Errors}}</td><td class="num">{{.Acked}}</td><td class="num">{{.Lost}}</td><td class="{{.Verdict}}">{{.Verdict}}</td><td class="msg">{{.Message}}</td></tr>
{{end}}</table>{{end}}

{{if .Figures}}<h2>Plots</h2>
{{range .Figures}}<figure>
<figcaption>{{.Title}} (<a href="{{.SVG}}">SVG</a>)</figcaption>
<a href="{{.PNG}}"><img src="{{.PNG}}" alt="{{.Title}}" width="960"></a>
</figure>
{{end}}{{end}}

{{if .SubRuns}}<h2>Runs</h2>
<ul>
{{range .SubRuns}}<li><a href="{{.Href}}">{{.Text}}</a></li>
{{end}}</ul>{{end}}

<h2>Files</h2>
<ul>
{{range .Links}}<li><a href="{{.Href}}">{{.Text}}</a></li>
{{end}}</ul>
{{if .NodeLogs}}<h3>Node logs</h3>
<ul>
{{range .NodeLogs}}<li><a href="{{.Href}}">{{.Text}}</a></li>
{{end}}</ul>{{end}}
</body>
</html>
`))
