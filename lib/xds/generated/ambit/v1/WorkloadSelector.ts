// Original file: lib/xds/proto/ambit/v1/resources.proto


export interface WorkloadSelector {
  'matchLabels'?: ({[key: string]: string});
}

export interface WorkloadSelector__Output {
  'matchLabels': ({[key: string]: string});
}
