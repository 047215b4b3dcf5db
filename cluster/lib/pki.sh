# shellcheck shell=bash
# Cluster PKI made with openssl (sourced by up.sh; needs common.sh): one CA,
# the API server's serving and kubelet-client certificates, one client
# certificate and kubeconfig per component, and the service-account key pair;
# and a second CA for the client certificate the API server presents to
# admission webhooks, with the admission configuration that makes it do so.
# Made once per state directory and kept across restarts.

# The API server reads these at start (--admission-control-config-file).
ADMISSION_CONFIG=$STATE_DIR/admission-config.yaml
WEBHOOK_CLIENT_KUBECONFIG=$STATE_DIR/webhook-client.kubeconfig
# What a webhook trusts to know its caller is this API server (cloudbase --client-ca).
WEBHOOK_CLIENT_CA=$PKI_DIR/webhook-client-ca.crt

# make_ca creates the self-signed CA NAME.crt/NAME.key unless it exists.
make_ca() {
  local name=$1 subject=$2
  [[ -f $PKI_DIR/$name.crt ]] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -x509 -new -key "$PKI_DIR/$name.key" -subj "$subject" -days 3650 \
    -set_serial "0x$(openssl rand -hex 16)" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$PKI_DIR/$name.crt"
}

# make_cert signs NAME.crt/NAME.key with the CA (or with CA NAME, the fifth
# argument). SANS is an openssl subjectAltName list ("" for a client-only
# certificate).
make_cert() {
  local name=$1 subject=$2 usage=$3 sans=$4 ca=${5:-ca} ext
  [[ -f $PKI_DIR/$name.crt ]] && return 0
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI_DIR/$name.key" 2>/dev/null
  openssl req -new -key "$PKI_DIR/$name.key" -subj "$subject" -out "$PKI_DIR/$name.csr"
  # -set_serial: a random 128-bit serial for every certificate.
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/$ca.crt" -CAkey "$PKI_DIR/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -extfile "$ext" \
    -out "$PKI_DIR/$name.crt" 2>/dev/null
  rm -f "$ext" "$PKI_DIR/$name.csr"
}

# write_kubeconfig writes a kubeconfig for client certificate NAME.
write_kubeconfig() {
  local name=$1 out=$2
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: cloudbase
  cluster:
    server: https://$NODE_IP:6443
    certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
- name: cloudbase
  context: {cluster: cloudbase, user: $name}
current-context: cloudbase
EOF
  chmod 600 "$out"
}

# write_admission_config makes the API server present a client certificate to
# every admission webhook it calls (users entry "*"), signed by a CA of its own
# rather than the cluster CA, so that a webhook trusting it admits this caller
# and no component or user of the cluster. Rewritten only when it changes:
# up.sh restarts the API server when it does.
# https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#authenticate-apiservers
write_admission_config() {
  make_ca webhook-client-ca "/CN=cloudbase-webhook-client-ca"
  make_cert apiserver-webhook-client "/CN=kube-apiserver-webhook-client" clientAuth "" webhook-client-ca
  write_if_changed "$WEBHOOK_CLIENT_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
users:
- name: '*'
  user:
    client-certificate-data: $(base64 -w0 "$PKI_DIR/apiserver-webhook-client.crt")
    client-key-data: $(base64 -w0 "$PKI_DIR/apiserver-webhook-client.key")
EOF
  chmod 600 "$WEBHOOK_CLIENT_KUBECONFIG"
  local plugin
  {
    echo "apiVersion: apiserver.config.k8s.io/v1"
    echo "kind: AdmissionConfiguration"
    echo "plugins:"
    for plugin in ValidatingAdmissionWebhook MutatingAdmissionWebhook; do
      echo "- name: $plugin"
      echo "  configuration:"
      echo "    apiVersion: apiserver.config.k8s.io/v1"
      echo "    kind: WebhookAdmissionConfiguration"
      echo "    kubeConfigFile: $WEBHOOK_CLIENT_KUBECONFIG"
    done
  } | write_if_changed "$ADMISSION_CONFIG"
}

make_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  if [[ ! -f $PKI_DIR/ca.crt ]]; then
    log "creating the cluster CA and certificates in $PKI_DIR"
    make_ca ca "/CN=cloudbase-cluster-ca"
  fi
  [[ -f $PKI_DIR/sa.key ]] || {
    openssl genrsa -out "$PKI_DIR/sa.key" 2048 2>/dev/null
    openssl rsa -in "$PKI_DIR/sa.key" -pubout -out "$PKI_DIR/sa.pub" 2>/dev/null
  }
  local svc=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
  make_cert apiserver "/CN=kube-apiserver" serverAuth \
    "IP:$NODE_IP,IP:$KUBERNETES_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:$NODE_NAME,$svc"
  make_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth ""
  make_cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
  # The aggregation layer's proxy client; the API server trusts its
  # X-Remote-* headers only from this certificate's name.
  make_cert front-proxy-client "/CN=front-proxy-client" clientAuth ""
  make_cert admin "/O=system:masters/CN=cloudbase-admin" clientAuth ""
  make_cert controller-manager "/CN=system:kube-controller-manager" clientAuth ""
  make_cert scheduler "/CN=system:kube-scheduler" clientAuth ""
  make_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth ""
  make_cert kube-proxy "/CN=system:kube-proxy" clientAuth ""
  # Traefik's default TLS certificate (traefik/traefik.yaml, TLSStore "default"). Without one, Traefik
  # generates a new RSA-2048 key at every configuration rebuild (traefik/traefik#7831).
  make_cert traefik-default "/CN=$TRAEFIK_DEFAULT_CERT_CN" serverAuth "DNS:traefik.invalid"
  write_admission_config
  write_kubeconfig admin "$KUBECONFIG_ADMIN"
  local c
  for c in controller-manager scheduler kubelet kube-proxy; do
    write_kubeconfig "$c" "$STATE_DIR/$c.kubeconfig"
  done
}
