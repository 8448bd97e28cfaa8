// Original file: lib/xds/proto/ambit/v1/resources.proto

import type { HeaderModifier as _ambit_v1_HeaderModifier, HeaderModifier__Output as _ambit_v1_HeaderModifier__Output } from '../../ambit/v1/HeaderModifier.js';
import type { RequestMirror as _ambit_v1_RequestMirror, RequestMirror__Output as _ambit_v1_RequestMirror__Output } from '../../ambit/v1/RequestMirror.js';
import type { RequestRedirect as _ambit_v1_RequestRedirect, RequestRedirect__Output as _ambit_v1_RequestRedirect__Output } from '../../ambit/v1/RequestRedirect.js';
import type { UrlRewrite as _ambit_v1_UrlRewrite, UrlRewrite__Output as _ambit_v1_UrlRewrite__Output } from '../../ambit/v1/UrlRewrite.js';

export interface RouteFilter {
  'requestHeaderModifier'?: (_ambit_v1_HeaderModifier | null);
  'responseHeaderModifier'?: (_ambit_v1_HeaderModifier | null);
  'requestMirror'?: (_ambit_v1_RequestMirror | null);
  'requestRedirect'?: (_ambit_v1_RequestRedirect | null);
  'urlRewrite'?: (_ambit_v1_UrlRewrite | null);
  'filter'?: "requestHeaderModifier"|"responseHeaderModifier"|"requestMirror"|"requestRedirect"|"urlRewrite";
}

export interface RouteFilter__Output {
  'requestHeaderModifier'?: (_ambit_v1_HeaderModifier__Output | null);
  'responseHeaderModifier'?: (_ambit_v1_HeaderModifier__Output | null);
  'requestMirror'?: (_ambit_v1_RequestMirror__Output | null);
  'requestRedirect'?: (_ambit_v1_RequestRedirect__Output | null);
  'urlRewrite'?: (_ambit_v1_UrlRewrite__Output | null);
  'filter'?: "requestHeaderModifier"|"responseHeaderModifier"|"requestMirror"|"requestRedirect"|"urlRewrite";
}
